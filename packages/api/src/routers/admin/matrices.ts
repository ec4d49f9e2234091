import { tenantProcedure } from "../../procedures";
import { previewMatrix } from "../../services/matrices/preview-matrix";
import { getMatrix, listMatrices } from "../../services/matrices/read-matrices";
import { createMatrix, setMatrixActive, updateMatrix } from "../../services/matrices/save-matrix";
import { router } from "../../trpc";
import {
  matrixActiveOutput,
  matrixDetail,
  matrixIdInput,
  matrixInput,
  matrixPreviewInput,
  matrixPreviewOutput,
  matrixSaved,
  matrixSetActiveInput,
  matrixUpdateInput,
  matrixView,
} from "./matrices.schemas";

export const matricesRouter = router({
  create: tenantProcedure("admin")
    .input(matrixInput)
    .output(matrixSaved)
    .mutation(({ ctx, input }) => createMatrix(ctx.deps.db, ctx.actor, input)),

  get: tenantProcedure("admin")
    .input(matrixIdInput)
    .output(matrixDetail)
    .query(({ ctx, input }) => getMatrix(ctx.deps.db, ctx.tenantId, input.id)),

  /** Replaces the matrix and its stages. Requests in flight keep the stages they were submitted with. */
  update: tenantProcedure("admin")
    .input(matrixUpdateInput)
    .output(matrixSaved)
    .mutation(({ ctx, input }) => updateMatrix(ctx.deps.db, ctx.actor, input.id, input.matrix)),

  setActive: tenantProcedure("admin")
    .input(matrixSetActiveInput)
    .output(matrixActiveOutput)
    .mutation(({ ctx, input }) => setMatrixActive(ctx.deps.db, ctx.actor, input.id, input.active)),

  /** Where a sample request would route with this draft saved; writes nothing. */
  preview: tenantProcedure("admin")
    .input(matrixPreviewInput)
    .output(matrixPreviewOutput)
    .mutation(({ ctx, input }) => previewMatrix(ctx.deps.db, ctx.actor, { ...input, id: input.id ?? null })),

  list: tenantProcedure("admin")
    .output(matrixView.array())
    .query(({ ctx }) => listMatrices(ctx.deps.db, ctx.tenantId)),
});
