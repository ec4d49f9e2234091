import { DomainError } from "@approvalmatrix/core";
import type { Database } from "@approvalmatrix/db";
import type { Actor } from "../../context";
import { describePlannedStages, planSubmission } from "../plan-submission";
import { saveMatrix } from "./save-matrix";
import type { MatrixDraft, MatrixPreview, PreviewSample } from "./types";

/** Thrown to roll the preview's transaction back; carries what the preview found. */
class PreviewRollback extends Error {
  constructor(readonly outcome: MatrixPreview) {
    super("preview rolled back");
  }
}

/**
 * "This sample request would route here": the draft is written inside a transaction that is
 * always rolled back, and the sample is planned with planSubmission, the resolver dry-run uses.
 */
export async function previewMatrix(
  db: Database,
  actor: Actor,
  input: { id: string | null; matrix: MatrixDraft; sample: PreviewSample },
): Promise<MatrixPreview> {
  try {
    await db.transaction(async (tx) => {
      const { id } = await saveMatrix(tx, actor, { ...input.matrix, active: true }, input.id, { audit: false, refuseUnroutable: false });
      let outcome: MatrixPreview;
      try {
        const plan = await planSubmission(tx, actor.tenantId, { ...input.sample, requestType: input.matrix.requestType, title: "Preview" });
        outcome = {
          routed: true,
          matrixId: plan.matrix.id ?? "",
          matrixName: plan.matrix.name,
          isThisMatrix: plan.matrix.id === id,
          stages: describePlannedStages(plan),
        };
      } catch (error) {
        if (!(error instanceof DomainError)) throw error;
        outcome = { routed: false, code: error.code, message: error.message };
      }
      throw new PreviewRollback(outcome);
    });
  } catch (error) {
    if (error instanceof PreviewRollback) return error.outcome;
    throw error;
  }
  throw new Error("the preview transaction ended without an outcome");
}
