import { apiKeyProcedure } from "../../procedures";
import { cancelRequest } from "../../services/cancel-request";
import { requestView } from "../../contracts/requests";
import { cancelInput } from "./schemas";

export const cancel = apiKeyProcedure("requests:write")
  .meta({
    openapi: {
      method: "POST",
      path: "/requests/{requestId}/cancel",
      summary: "Cancel a request",
      description:
        "Withdraws a pending or in-progress request, for example when the purchase is no longer needed. Approved, rejected and cancelled requests cannot be cancelled (409 request_closed). Answers with the request as GET /v1/requests/{requestId} shows it afterwards, with the reason as cancelReason.",
      tags: ["Requests"],
      protect: true,
    },
    errorCodes: ["not_found", "request_closed"],
  })
  .input(cancelInput)
  .output(requestView)
  .mutation(({ ctx, input }) => cancelRequest(ctx.deps.db, ctx.actor, input, ctx.deps.receipts));
