import { apiError } from "../../errors";
import { apiKeyProcedure } from "../../procedures";
import { loadRequestView } from "../../services/request-view";
import { requestView } from "../../contracts/requests";
import { requestIdInput } from "./schemas";

export const get = apiKeyProcedure("requests:read")
  .meta({
    errorCodes: ["not_found"],
    openapi: {
      method: "GET",
      path: "/requests/{requestId}",
      summary: "Get the current status of a request",
      description: "Status, stages with their approvers and rule, who can still decide, and every decision so far.",
      tags: ["Requests"],
      protect: true,
    },
  })
  .input(requestIdInput)
  .output(requestView)
  .query(async ({ ctx, input }) => {
    const view = await loadRequestView(ctx.deps.db, ctx.tenantId, input.requestId);
    // Another tenant's id answers exactly like an id that does not exist.
    if (!view) throw apiError("not_found", `No request ${input.requestId}.`);
    return view;
  });
