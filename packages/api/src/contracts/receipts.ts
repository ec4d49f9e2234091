/**
 * The shapes of receipts, checkpoints, proofs and verification answers (services/receipts): shared
 * by the open verification endpoints and the admin app, and the source of their OpenAPI schemas.
 */
import { DECISIONS, RECEIPT_OUTCOMES, RECEIPT_PAYLOAD_TYPES, CHECKPOINT_PAYLOAD_TYPE } from "@approvalmatrix/core";
import { SIGNING_KEY_STATUSES } from "@approvalmatrix/db";
import { z } from "zod";

const hex = z.string().regex(/^[0-9a-f]*$/, "lowercase hex");
const base64 = z
  .string()
  .max(200_000)
  .regex(/^[A-Za-z0-9+/]*={0,2}$/, "base64");

export const dsseEnvelope = z
  .object({
    payload: base64.describe("base64 of the RFC 8785 canonical JSON body, exactly as signed."),
    payloadType: z
      .string()
      .min(1)
      .max(200)
      .describe(`${RECEIPT_PAYLOAD_TYPES.join(", ")} or ${CHECKPOINT_PAYLOAD_TYPE}.`),
    signatures: z
      .array(
        z.object({
          keyid: z.string().max(200).describe("kid of a key in GET /v1/keys."),
          sig: base64.describe("base64 Ed25519 signature over DSSE's PAE(payloadType, payload)."),
        }),
      )
      .min(1)
      .max(16),
  })
  .describe("A DSSE envelope (github.com/secure-systems-lab/dsse).");

const party = z.object({ type: z.string(), id: z.string(), name: z.string() });
const receiptCommon = {
  version: z.literal(1),
  tenant: z.object({ id: z.string(), slug: z.string() }),
  requestId: z.string(),
  contentDigest: z.string().describe("sha256:<hex> of the RFC 8785 JSON of {type, title, amount, currency, metadata, submitterRef}."),
  matrix: z.object({ id: z.string().nullable().describe("null for a request addressed to one approver (ad hoc)"), name: z.string() }),
  stage: z.object({ position: z.number().int(), name: z.string() }).nullable(),
  meaning: z.string().describe('What the signature means: "approval", "rejection", "final approval", "cancellation", …'),
  actor: party.describe("Who pressed the button: the approver's own sign-in, or a key or service acting for them."),
  decidedAt: z.string(),
  log: z.object({ position: z.number().int(), previousLeafHash: hex.nullable() }),
};
export const receiptBody = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("decision"),
    ...receiptCommon,
    decision: z.enum(DECISIONS),
    approver: z.object({ ref: z.string(), name: z.string() }),
    commentDigest: z.string().nullable(),
  }),
  z.object({
    kind: z.literal("outcome"),
    ...receiptCommon,
    outcome: z.enum(RECEIPT_OUTCOMES),
    reasonDigest: z.string().nullable(),
  }),
]);

export const checkpointBody = z.object({
  version: z.literal(1),
  origin: z.string(),
  tenant: z.object({ id: z.string(), slug: z.string() }),
  treeSize: z.number().int(),
  rootHash: hex,
  issuedAt: z.string(),
});

export const inclusionProof = z.object({
  leafIndex: z.number().int().min(0),
  treeSize: z.number().int().min(1),
  hashes: z.array(hex.length(64)).max(64).describe("RFC 6962 audit path, hex, bottom up."),
});

export const checkpointView = z.object({ envelope: dsseEnvelope, body: checkpointBody.nullable(), valid: z.boolean() });

export const receiptView = z.object({
  id: z.string(),
  position: z.number().int(),
  kind: z.enum(["decision", "outcome"]),
  envelope: dsseEnvelope,
  body: receiptBody.nullable(),
  leafHash: hex.describe("SHA-256(0x00 || payload bytes), hex."),
  inclusionProof: inclusionProof.nullable().describe("Proof against `checkpoint`; null until a checkpoint covers this receipt."),
  valid: z.boolean(),
  reasons: z.array(z.string()),
});

export const requestVerification = z.object({
  requestId: z.string(),
  valid: z.boolean().describe("True when every receipt verifies and is consistent with the log and the request."),
  reasons: z.array(z.string()),
  receipts: z.array(receiptView),
  checkpoint: checkpointView.nullable().describe("The tenant log's latest signed checkpoint."),
  keySetUrl: z.string().describe("Where the public keys are published (JWKS)."),
});

export const envelopeVerification = z.object({
  valid: z.boolean(),
  reasons: z.array(z.string()),
  keyid: z.string().nullable(),
  body: receiptBody.nullable(),
  inLog: z.boolean().describe("Whether the tenant's log holds this exact receipt at its signed position."),
  inclusionProof: inclusionProof.nullable(),
  checkpoint: checkpointView.nullable(),
  keySetUrl: z.string(),
});

export const publishedKey = z.object({
  kty: z.literal("OKP"),
  crv: z.literal("Ed25519"),
  x: z.string().describe("base64url public key."),
  kid: z.string().describe("RFC 7638 thumbprint."),
  alg: z.literal("EdDSA"),
  use: z.literal("sig"),
  status: z
    .enum(SIGNING_KEY_STATUSES)
    .describe("next: published, not signing yet; active: signing; retired: no longer signs, still valid for what it signed."),
  createdAt: z.string(),
  activatedAt: z.string().nullable(),
  retiredAt: z.string().nullable(),
});
export const keySet = z.object({ keys: z.array(publishedKey) });
