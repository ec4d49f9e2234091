/**
 * What a receipt says. A receipt is a DSSE envelope (dsse.ts) whose payload is the RFC 8785
 * canonical JSON of one of the bodies below, signed with the product's Ed25519 key, and whose
 * payload bytes are a leaf of the tenant's Merkle log (merkle.ts). A checkpoint is the same
 * kind of envelope over the log's size and root.
 */
import { createHash } from "node:crypto";
import type { Decision } from "../request-flow";
import { canonicalJson } from "./canonical-json";
import { type DsseEnvelope, envelopePayload } from "./dsse";
import { leafHash } from "./merkle";

export const RECEIPT_VERSION = 1;
export const DECISION_PAYLOAD_TYPE = "application/vnd.approvalmatrix.decision.v1+json";
export const OUTCOME_PAYLOAD_TYPE = "application/vnd.approvalmatrix.outcome.v1+json";
export const CHECKPOINT_PAYLOAD_TYPE = "application/vnd.approvalmatrix.checkpoint.v1+json";
export const RECEIPT_PAYLOAD_TYPES = [DECISION_PAYLOAD_TYPE, OUTCOME_PAYLOAD_TYPE] as const;

/** Terminal outcomes that get a receipt; `expired` comes with request deadlines. */
export const RECEIPT_OUTCOMES = ["approved", "rejected", "cancelled", "expired"] as const;
export type ReceiptOutcome = (typeof RECEIPT_OUTCOMES)[number];

/** What a signature means, in words (as 21 CFR 11.50 asks of an electronic signature). */
export const DECISION_MEANINGS: Record<Decision, string> = { approved: "approval", rejected: "rejection" };
export const OUTCOME_MEANINGS: Record<ReceiptOutcome, string> = {
  approved: "final approval",
  rejected: "final rejection",
  cancelled: "cancellation",
  expired: "expiry",
};

/** Who pressed the button: the approver themselves, or someone acting for them. */
export interface ReceiptActor {
  type: string;
  id: string;
  name: string;
}

interface ReceiptCommon {
  version: typeof RECEIPT_VERSION;
  tenant: { id: string; slug: string };
  requestId: string;
  /** sha256:<hex> of the RFC 8785 JSON of the request's content (requestContentDigest). */
  contentDigest: string;
  /** The matrix that routed the request; id null for a request addressed to one approver (ad hoc). */
  matrix: { id: string | null; name: string };
  /** The stage decided on; for an outcome, the last stage that was open (null if none). */
  stage: { position: number; name: string } | null;
  meaning: string;
  actor: ReceiptActor;
  decidedAt: string;
  /** This receipt's place in the tenant's log: position 0 is the first; the previous leaf's hash chains them. */
  log: { position: number; previousLeafHash: string | null };
}

export interface DecisionReceiptBody extends ReceiptCommon {
  kind: "decision";
  decision: Decision;
  approver: { ref: string; name: string };
  /** sha256:<hex> of the comment's UTF-8 bytes; null without a comment. */
  commentDigest: string | null;
}

export interface OutcomeReceiptBody extends ReceiptCommon {
  kind: "outcome";
  outcome: ReceiptOutcome;
  /** sha256:<hex> of the cancellation reason; null otherwise. */
  reasonDigest: string | null;
}

export type ReceiptBody = DecisionReceiptBody | OutcomeReceiptBody;

export interface CheckpointBody {
  version: typeof RECEIPT_VERSION;
  /** Names the log, so a witness can keep checkpoints of many logs apart. */
  origin: string;
  tenant: { id: string; slug: string };
  treeSize: number;
  /** Hex RFC 6962 root of the first treeSize leaves. */
  rootHash: string;
  issuedAt: string;
}

export function sha256Digest(data: string | Uint8Array): string {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

/** The request's content as submitted, the fields a receipt binds its signature to. */
export interface RequestContent {
  type: string;
  title: string;
  amount: number | null;
  currency: string | null;
  metadata: Record<string, unknown>;
  submitterRef: string;
}

export function requestContentDigest(content: RequestContent): string {
  const { type, title, amount, currency, metadata, submitterRef } = content;
  return sha256Digest(canonicalJson({ type, title, amount, currency, metadata, submitterRef }));
}

export function logOrigin(tenantId: string): string {
  return `approvalmatrix/receipts/${tenantId}`;
}

export function payloadTypeOf(body: ReceiptBody): string {
  return body.kind === "decision" ? DECISION_PAYLOAD_TYPE : OUTCOME_PAYLOAD_TYPE;
}

/** The bytes that are signed and that form the log leaf. */
export function encodeBody(body: ReceiptBody | CheckpointBody): Buffer {
  return Buffer.from(canonicalJson(body), "utf8");
}

/** Leaf hash (hex) of a receipt envelope: over its payload bytes, so signatures may be added later. */
export function receiptLeafHash(envelope: DsseEnvelope): string {
  return leafHash(envelopePayload(envelope)).toString("hex");
}

/** Parses a payload, refusing bytes that are not exactly the canonical form of what they decode to. */
export function decodeCanonicalPayload<T>(envelope: DsseEnvelope): T | null {
  try {
    const bytes = envelopePayload(envelope);
    const text = bytes.toString("utf8");
    const value = JSON.parse(text) as unknown;
    if (canonicalJson(value) !== text || !Buffer.from(text, "utf8").equals(bytes)) return null;
    return value as T;
  } catch {
    return null;
  }
}

/** "Slack bot acting for Jane Smith", or just the approver's name when they acted themselves. */
export function describeReceiptSigner(body: ReceiptBody): string {
  if (body.kind === "outcome") return `${body.meaning} (${body.actor.name})`;
  const self = body.actor.type === "member" || body.actor.name === body.approver.name;
  return self ? body.approver.name : `${body.actor.name} acting for ${body.approver.name}`;
}
