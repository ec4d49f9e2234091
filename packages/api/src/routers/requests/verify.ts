import { openProcedure } from "../../procedures";
import { requestVerification } from "../../contracts/receipts";
import { verifyRequest } from "../../services/receipts/verify";
import { requestIdInput } from "./schemas";

export const verify = openProcedure("requests:verify")
  .meta({
    errorCodes: ["not_found"],
    openapi: {
      method: "GET",
      path: "/requests/{requestId}/verify",
      summary: "Verify a request's signed decisions",
      description:
        "Every signed receipt of the request (one per decision, one per final outcome), the tenant log's latest signed checkpoint, an inclusion proof of each receipt in it, and where the public keys are: everything needed to check the decisions offline. `valid` is true when every receipt verifies against the published keys, is included in the checkpoint, and matches the request's content and stored decisions; `reasons` says why not. No key needed (300 requests per minute per address); a key with `requests:verify` sees only its own tenant's requests. An unknown id (or another tenant's, with a key) is 404.",
      tags: ["Receipts"],
      protect: false,
    },
  })
  .input(requestIdInput)
  .output(requestVerification)
  .query(({ ctx, input }) =>
    verifyRequest(ctx.deps.db, ctx.deps.receipts, { requestId: input.requestId, ...(ctx.tenantId ? { tenantId: ctx.tenantId } : {}) }),
  );
