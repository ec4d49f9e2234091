import { openProcedure } from "../../procedures";
import { dsseEnvelope, envelopeVerification, inclusionProof } from "../../contracts/receipts";
import { verifyEnvelope } from "../../services/receipts/verify";
import { z } from "zod";

export const verify = openProcedure("requests:verify")
  .meta({
    openapi: {
      method: "POST",
      path: "/receipts/verify",
      summary: "Verify a receipt",
      description:
        "Checks a receipt (a DSSE envelope) you hold: its Ed25519 signature against the published keys, that the tenant's log holds it at the position it was signed for, and that it is included in the log's latest signed checkpoint. Send `checkpoint` and `proof` (from an earlier verification) to check the inclusion against that checkpoint instead. Answers 200 with `valid` and `reasons` whatever the verdict. No key needed; 300 requests per minute per address.",
      tags: ["Receipts"],
      protect: false,
    },
  })
  .input(z.strictObject({ envelope: dsseEnvelope, proof: inclusionProof.optional(), checkpoint: dsseEnvelope.optional() }))
  .output(envelopeVerification)
  .mutation(({ ctx, input }) => verifyEnvelope(ctx.deps.db, ctx.deps.receipts, input));
