import { z } from "zod";
import { dsseEnvelope, publishedKey, requestVerification } from "../../contracts/receipts";
import { tenantProcedure } from "../../procedures";
import { getAdminRequest } from "../../services/admin-requests/admin-requests";
import { writeAudit } from "../../services/audit";
import { auditTenantLog, logState } from "../../services/receipts/audit";
import { verifyRequest } from "../../services/receipts/verify";
import { router } from "../../trpc";

const logVerdict = z.object({
  valid: z.boolean(),
  size: z.number().int(),
  firstBadPosition: z.number().int().nullable(),
  problems: z.array(z.object({ position: z.number().int(), reason: z.string() })),
  checkpointsChecked: z.number().int(),
  verifiedTreeSize: z.number().int(),
});

export const adminReceiptsRouter = router({
  /** The receipts of a request the signed-in user may see, verified. */
  forRequest: tenantProcedure("approver")
    .input(z.strictObject({ requestId: z.string().min(1).max(100) }))
    .output(requestVerification)
    .query(async ({ ctx, input }) => {
      await getAdminRequest(ctx.deps.db, ctx.actor, input.requestId);
      return verifyRequest(ctx.deps.db, ctx.deps.receipts, { requestId: input.requestId, tenantId: ctx.tenantId });
    }),

  /** The tenant's log: its size, latest checkpoint (checked) and the published keys. */
  logState: tenantProcedure("admin")
    .output(
      z.object({
        size: z.number().int(),
        checkpointedSize: z.number().int(),
        checkpoint: z
          .object({
            treeSize: z.number().int(),
            rootHash: z.string(),
            issuedAt: z.string(),
            keyid: z.string(),
            valid: z.boolean(),
            envelope: dsseEnvelope,
          })
          .nullable(),
        keys: z.array(publishedKey),
      }),
    )
    .query(({ ctx }) => logState(ctx.deps.db, ctx.deps.receipts, ctx.tenantId)),

  /** Walks the whole log (audit verify). */
  verifyLog: tenantProcedure("admin")
    .output(logVerdict)
    .mutation(({ ctx }) =>
      auditTenantLog(
        ctx.deps.db,
        ctx.deps.receipts,
        ctx.tenantId,
        ctx.onProgress ? (p) => ctx.onProgress?.({ phase: "verify", ...p }) : undefined,
      ),
    ),

  /**
   * Rotates the platform's signing key: the published next key starts signing, the active one is
   * retired (still published) and a new next key is published. Owners only; audited.
   */
  rotateKey: tenantProcedure("owner")
    .output(z.object({ activated: z.string(), retired: z.string().nullable(), next: z.string() }))
    .mutation(async ({ ctx }) => {
      const rotated = await ctx.deps.receipts.rotate();
      await writeAudit(ctx.deps.db, ctx.actor, {
        action: "signing_key.rotated",
        targetType: "signing_key",
        targetId: rotated.activated,
        data: { ...rotated },
      });
      return rotated;
    }),
});
