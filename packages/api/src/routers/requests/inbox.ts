import { apiKeyProcedure } from "../../procedures";
import { listInbox } from "../../services/list-requests";
import { inboxInput, requestPage } from "../../contracts/requests";

/**
 * tRPC only (not under /v1): the requests waiting on one member's decision, newest first, for an
 * app that shows an approver their queue.
 */
export const inbox = apiKeyProcedure("requests:read")
  .meta({ errorCodes: ["unknown_approver"] })
  .input(inboxInput)
  .output(requestPage)
  .query(({ ctx, input }) => listInbox(ctx.deps.db, ctx.tenantId, input));
