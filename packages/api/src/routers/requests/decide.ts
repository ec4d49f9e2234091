import { apiKeyProcedure } from "../../procedures";
import { decideRequest } from "../../services/decide-request";
import { requestView } from "../../contracts/requests";
import { decideInput } from "./schemas";

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
    errorCodes: ["not_found", "unknown_approver", "not_an_approver", "already_decided", "request_closed"],
  })
  .input(decideInput)
  .output(requestView)
  .mutation(({ ctx, input }) =>
    decideRequest(
      ctx.deps.db,
      ctx.actor,
      {
        requestId: input.requestId,
        approver: { ref: input.approverRef },
        decision: input.decision,
        comment: input.comment,
      },
      ctx.deps.receipts,
    ),
  );
