import { DomainError } from "@approvalmatrix/core";
import type { Actor } from "../../context";
import { apiKeyProcedure } from "../../procedures";
import { decideRequest } from "../../services/decide-request";
import { requestView } from "../../contracts/requests";
import { decideInput } from "./schemas";

/** Who decides: the body's approverRef for a key; for a service token, the approver it acts for (and nobody else). */
function approverOf(actor: Actor, approverRef: string | undefined): { ref: string } | { memberId: string } {
  if (actor.kind === "serviceToken") {
    if (approverRef && approverRef !== actor.actingFor.ref) {
      throw new DomainError("forbidden", `This service token acts for ${actor.actingFor.name}: it can record only their decision.`);
    }
    return { memberId: actor.actingFor.memberId };
  }
  if (!approverRef) {
    throw new DomainError("invalid_request", "Invalid request. approverRef: required", [{ field: "approverRef", message: "required" }]);
  }
  return { ref: approverRef };
}

export const decide = apiKeyProcedure("decisions:write")
  .meta({
    openapi: {
      method: "POST",
      path: "/requests/{requestId}/decisions",
      summary: "Record an approver's decision",
      description:
        "Records a decision on behalf of an approver of the current stage, identified by approverRef (their externalRef): for systems that collect decisions themselves, such as a chat bot or an e-mail gateway. An approval completes the stage when its rule is met (any: the first approval; all: every approver; quorum: N approvals) and opens the next one; the last stage's completion approves the request. One rejection rejects the request. Answers with the request as GET /v1/requests/{requestId} shows it afterwards.",
      tags: ["Decisions"],
      protect: true,
    },
    errorCodes: [
      "not_found",
      "unknown_approver",
      "not_an_approver",
      "already_decided",
      "request_closed",
      "approver_required",
      "approver_other_tenant",
      "approver_inactive",
    ],
  })
  .input(decideInput)
  .output(requestView)
  .mutation(({ ctx, input }) =>
    decideRequest(
      ctx.deps.db,
      ctx.actor,
      {
        requestId: input.requestId,
        approver: approverOf(ctx.actor, input.approverRef),
        decision: input.decision,
        comment: input.comment,
      },
      ctx.deps.receipts,
    ),
  );
