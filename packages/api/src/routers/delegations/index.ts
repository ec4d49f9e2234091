/**
 * Delegations (out of office) and reassignment, over REST (/v1/delegations, scope
 * decisions:write; reassign: requests:write) and, for the admin app, the same services as the
 * signed-in user (approvers for themselves, admins for anyone).
 */
import { DomainError } from "@approvalmatrix/core";
import { apiKeyProcedure, tenantProcedure } from "../../procedures";
import { createDelegation, listDelegations, reassignApprover, revokeDelegation } from "../../services/delegations/delegations";
import { z } from "zod";
import { router } from "../../trpc";
import { createDelegationInput, delegationIdInput, delegationList, delegationView, reassignInput, reassignOutput } from "./schemas";

const toCreate = (input: {
  memberRef: string;
  delegateRef: string;
  startsAt?: string | undefined;
  endsAt?: string | null | undefined;
  reason?: string | null | undefined;
}) => ({
  member: { ref: input.memberRef },
  delegate: { ref: input.delegateRef },
  startsAt: input.startsAt,
  endsAt: input.endsAt,
  reason: input.reason,
});

export const delegationsRouter = router({
  list: apiKeyProcedure("requests:read")
    .meta({
      openapi: { method: "GET", path: "/delegations", summary: "List delegations", tags: ["Delegations"], protect: true },
      errorCodes: [],
    })
    .input(z.strictObject({}))
    .output(delegationList)
    .query(async ({ ctx }) => ({ data: await listDelegations(ctx.deps.db, ctx.actor, ctx.deps.clock.now()) })),
  create: apiKeyProcedure("decisions:write")
    .meta({
      openapi: {
        method: "POST",
        path: "/delegations",
        summary: "Set a delegate (out of office)",
        description:
          "While the delegation holds, stages that open for the member go to the delegate (the end of the chain when the delegate delegates too), and their open stages are re-pointed at once. A delegate never receives a request they submitted. A loop (Jane → Bob → Jane) is refused with 422 delegation_loop. A delegate's decision stays the member's (decidedBy, the approver of record), with the delegate as its actor (type `delegate`) and in `delegate`: “Bob Lee for Jane Smith”. A delegation with a future start or an end re-points open stages when it starts and ends (durable jobs).",
        tags: ["Delegations"],
        protect: true,
      },
      errorCodes: ["unknown_approver", "delegation_loop"],
      successStatus: 201,
    })
    .input(createDelegationInput)
    .output(delegationView)
    .mutation(({ ctx, input }) => createDelegation(ctx.deps.db, ctx.actor, toCreate(input), ctx.deps.clock.now())),
  revoke: apiKeyProcedure("decisions:write")
    .meta({
      openapi: {
        method: "DELETE",
        path: "/delegations/{delegationId}",
        summary: "End a delegation",
        description: "Ends it now; open stages the delegate holds for the member go back to the member.",
        tags: ["Delegations"],
        protect: true,
      },
      errorCodes: ["not_found"],
    })
    .input(delegationIdInput)
    .output(delegationView)
    .mutation(({ ctx, input }) => revokeDelegation(ctx.deps.db, ctx.actor, input.delegationId, ctx.deps.clock.now())),
  reassign: apiKeyProcedure("requests:write")
    .meta({
      openapi: {
        method: "POST",
        path: "/requests/{requestId}/reassign",
        summary: "Reassign an approver of the open stage",
        description:
          "Replaces one approver of the open stage (who has not decided) by another member, with a reason kept in the audit log. The submitter can never be made an approver.",
        tags: ["Requests"],
        protect: true,
      },
      errorCodes: ["not_found", "request_closed", "unknown_approver", "invalid_reassignment"],
    })
    .input(reassignInput)
    .output(reassignOutput)
    .mutation(({ ctx, input }) => reassignApprover(ctx.deps.db, ctx.actor, input)),
});

/** The admin app's side: approvers manage their own delegation, admins anyone's and reassign. */
export const adminDelegationsRouter = router({
  list: tenantProcedure("approver")
    .output(delegationList)
    .query(async ({ ctx }) => ({ data: await listDelegations(ctx.deps.db, ctx.actor, ctx.deps.clock.now()) })),
  create: tenantProcedure("approver")
    .input(createDelegationInput.partial({ memberRef: true }))
    .output(delegationView)
    .mutation(({ ctx, input }) => {
      // No memberRef: the signed-in user's own member.
      const own = ctx.actor.kind === "user" ? ctx.actor.memberId : null;
      if (!input.memberRef && !own)
        throw new DomainError("invalid_request", "Name the member who is away.", [{ field: "memberRef", message: "required" }]);
      return createDelegation(
        ctx.deps.db,
        ctx.actor,
        {
          ...toCreate({ ...input, memberRef: input.memberRef ?? "" }),
          member: input.memberRef ? { ref: input.memberRef } : { id: own ?? "" },
        },
        ctx.deps.clock.now(),
      );
    }),
  revoke: tenantProcedure("approver")
    .input(delegationIdInput)
    .output(delegationView)
    .mutation(({ ctx, input }) => revokeDelegation(ctx.deps.db, ctx.actor, input.delegationId, ctx.deps.clock.now())),
  reassign: tenantProcedure("admin")
    .input(reassignInput)
    .output(reassignOutput)
    .mutation(({ ctx, input }) => reassignApprover(ctx.deps.db, ctx.actor, input)),
});
