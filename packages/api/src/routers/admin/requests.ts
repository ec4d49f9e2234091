import { requestView } from "../../contracts/requests";
import { tenantProcedure } from "../../procedures";
import { adminInbox, decideAsSignedInApprover, getAdminRequest, listAdminRequests } from "../../services/admin-requests/admin-requests";
import { router } from "../../trpc";
import {
  adminDecideInput,
  adminInboxOutput,
  adminRequestDetail,
  adminRequestIdInput,
  adminRequestListInput,
  adminRequestPage,
} from "./requests.schemas";

export const adminRequestsRouter = router({
  list: tenantProcedure("approver")
    .input(adminRequestListInput)
    .output(adminRequestPage)
    .query(({ ctx, input }) => listAdminRequests(ctx.deps.db, ctx.actor, input)),

  get: tenantProcedure("approver")
    .input(adminRequestIdInput)
    .output(adminRequestDetail)
    .query(({ ctx, input }) => getAdminRequest(ctx.deps.db, ctx.actor, input.requestId)),

  /** The signed-in approver's inbox: requests waiting on their decision, oldest first. */
  inbox: tenantProcedure("approver")
    .output(adminInboxOutput)
    .query(({ ctx }) => adminInbox(ctx.deps.db, ctx.actor)),

  /** The signed-in approver decides as their own member: the approver never comes from input. */
  decide: tenantProcedure("approver")
    .input(adminDecideInput)
    .output(requestView)
    .mutation(({ ctx, input }) => decideAsSignedInApprover(ctx.deps, ctx.actor, input)),
});
