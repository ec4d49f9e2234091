import { apiKeyProcedure } from "../../procedures";
import { submitRequest } from "../../services/submit-request";
import { createdRequestOutput, submitRequestInput } from "./schemas";

export const create = apiKeyProcedure("requests:write")
  .meta({
    errorCodes: ["unknown_submitter", "no_matching_matrix", "no_eligible_approver"],
    successStatus: 201,
    rateLimit: "create",
    openapi: {
      method: "POST",
      path: "/requests",
      summary: "Submit a new approval request",
      description:
        "Resolves the matching approval matrix (request type, amount band, currency, metadata conditions; highest priority wins) and opens its first stage. Answers 201 Created.",
      tags: ["Requests"],
      protect: true,
      successDescription: "Created",
    },
  })
  .input(submitRequestInput)
  .output(createdRequestOutput)
  .mutation(({ ctx, input }) => submitRequest(ctx.deps.db, ctx.actor, input));
