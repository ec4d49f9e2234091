import { z } from "zod";
import { openProcedure } from "../../procedures";
import { keySet } from "../../contracts/receipts";

export const keys = openProcedure("requests:verify")
  .meta({
    openapi: {
      method: "GET",
      path: "/keys",
      summary: "The receipt-signing public keys (JWKS)",
      description:
        "Every Ed25519 key that has signed or will sign receipts and checkpoints, as a JSON Web Key Set (RFC 7517, OKP/Ed25519 per RFC 8037), each with its `kid` (RFC 7638 thumbprint) and `status`: `next` (published before it signs), `active`, `retired` (kept forever: receipts live for years). No key needed; 300 requests per minute per address.",
      tags: ["Receipts"],
      protect: false,
    },
  })
  .input(z.object({}))
  .output(keySet)
  .query(async ({ ctx }) => ({ keys: await ctx.deps.receipts.keySet() }));
