import { apiKeyProcedure } from "../../procedures";
import { submitRequest } from "../../services/submit-request";
import { createdRequestOutput, submitRequestInput } from "./schemas";

export const create = apiKeyProcedure("requests:write")
  .meta({
    errorCodes: [
      "unknown_submitter",
      "no_matching_matrix",
      "no_eligible_approver",
      "unknown_approver",
      "approver_inactive",
      "approver_required",
      "approver_other_tenant",
      "ad_hoc_not_allowed",
    ],
    successStatus: 201,
    rateLimit: "create",
    openapi: {
      method: "POST",
      path: "/requests",
      summary: "Submit a new approval request",
      description:
        "Resolves the matching approval matrix (request type, amount band, currency, metadata conditions; highest priority wins) and opens its first stage. A request may instead name its approver (approverRef or approverEmail; with an internal service token, the X-Approver-Email header): one ad-hoc stage, if the tenant allows it. With ttlSeconds, an undecided request becomes `expired`. Answers 201 Created.",
      tags: ["Requests"],
      protect: true,
      successDescription: "Created",
    },
  })
  .input(submitRequestInput)
  .output(createdRequestOutput)
  .mutation(({ ctx, input }) => submitRequest(ctx.deps.db, ctx.actor, input));
