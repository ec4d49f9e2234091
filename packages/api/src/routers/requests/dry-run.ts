import { apiKeyProcedure } from "../../procedures";
import { planAnySubmission } from "../../services/ad-hoc";
import { describePlannedStages } from "../../services/plan-submission";
import { dryRunOutput, submitRequestInput } from "./schemas";

export const dryRun = apiKeyProcedure("requests:write")
  .meta({
    errorCodes: [
      "unknown_submitter",
      "no_matching_matrix",
      "no_eligible_approver",
      "unknown_approver",
      "approver_inactive",
      "ad_hoc_not_allowed",
    ],
    openapi: {
      method: "POST",
      path: "/requests/test",
      summary: "Dry-run: validate a request without creating it",
      description:
        "Accepts the same payload as POST /v1/requests, validates it and resolves the matching matrix and each stage's approvers (or, for a request naming its approver, the one ad-hoc stage and whether your tenant allows it), without creating anything or notifying anyone.",
      tags: ["Requests"],
      protect: true,
    },
  })
  .input(submitRequestInput)
  .output(dryRunOutput)
  .mutation(async ({ ctx, input }) => {
    const plan = await planAnySubmission(ctx.deps.db, ctx.actor, input);
    return {
      requestId: null,
      status: "pending" as const,
      matrixId: plan.matrix.id,
      matrixName: plan.matrix.name,
      dryRun: true as const,
      createdAt: null,
      totalStages: plan.stages.length,
      // REST names a stage's position `stage`, as the created request's stages do.
      stages: describePlannedStages(plan).map(({ position, ...stage }) => ({ stage: position, ...stage })),
    };
  });
