/**
 * Public verification of a request's receipts against the published keys and the tenant's log.
 * Everything here is recomputed from the signed envelopes; the database's own columns (leaf
 * hashes, positions) are only used to find things and are checked like everything else.
 */
import {
  type CheckpointBody,
  DomainError,
  type DsseEnvelope,
  type KeyResolver,
  type ReceiptBody,
  inclusionProof,
  receiptLeafHash,
  requestContentDigest,
  sha256Digest,
  verifyCheckpointEnvelope,
  verifyInclusion,
  verifyReceiptEnvelope,
} from "@approvalmatrix/core";
import {
  type Database,
  type Queryable,
  and,
  asc,
  decisions,
  desc,
  eq,
  inArray,
  lt,
  members,
  receiptCheckpoints,
  receipts,
  requests,
  tenants,
} from "@approvalmatrix/db";
import type { ReceiptSigner } from "./keys";

export const KEY_SET_PATH = "/v1/keys";

export interface InclusionProofView {
  leafIndex: number;
  treeSize: number;
  /** Hex audit path (RFC 6962 / RFC 9162 section 2.1.3). */
  hashes: string[];
}

export interface CheckpointView {
  envelope: DsseEnvelope;
  body: CheckpointBody | null;
  valid: boolean;
}

export interface ReceiptView {
  id: string;
  position: number;
  kind: "decision" | "outcome";
  envelope: DsseEnvelope;
  /** The decoded payload when the signature verifies (null otherwise): for reading; the envelope is what counts. */
  body: ReceiptBody | null;
  leafHash: string;
  inclusionProof: InclusionProofView | null;
  valid: boolean;
  reasons: string[];
}

export interface RequestVerification {
  requestId: string;
  valid: boolean;
  reasons: string[];
  receipts: ReceiptView[];
  checkpoint: CheckpointView | null;
  keySetUrl: string;
}

function envelopeOf(row: { payload: string; payloadType: string; signatures: DsseEnvelope["signatures"] }): DsseEnvelope {
  return { payload: row.payload, payloadType: row.payloadType, signatures: row.signatures };
}

export async function latestCheckpoint(db: Queryable, tenantId: string) {
  const [row] = await db
    .select()
    .from(receiptCheckpoints)
    .where(eq(receiptCheckpoints.tenantId, tenantId))
    .orderBy(desc(receiptCheckpoints.treeSize), desc(receiptCheckpoints.createdAt))
    .limit(1);
  return row ?? null;
}

/** The stored leaf hashes of the first `size` entries, for inclusion proofs. */
async function leafHashes(db: Queryable, tenantId: string, size: number): Promise<Buffer[]> {
  const rows = await db
    .select({ leafHash: receipts.leafHash })
    .from(receipts)
    .where(and(eq(receipts.tenantId, tenantId), lt(receipts.position, size)))
    .orderBy(asc(receipts.position));
  return rows.map((r) => Buffer.from(r.leafHash, "hex"));
}

function checkpointView(row: Awaited<ReturnType<typeof latestCheckpoint>>, keys: KeyResolver): CheckpointView | null {
  if (!row) return null;
  const envelope = envelopeOf(row);
  const checked = verifyCheckpointEnvelope(envelope, keys);
  return { envelope, body: checked.ok ? checked.body : null, valid: checked.ok };
}

/**
 * Verifies every receipt of one request. `tenantId` restricts the lookup to one tenant (a keyed
 * caller); without it (the public endpoint) request ids, which are unguessable, are looked up
 * across tenants. Unknown: 404 not_found.
 */
export async function verifyRequest(
  db: Database,
  signer: ReceiptSigner,
  input: { requestId: string; tenantId?: string },
): Promise<RequestVerification> {
  const [request] = await db
    .select({
      id: requests.id,
      tenantId: requests.tenantId,
      requestType: requests.requestType,
      title: requests.title,
      amount: requests.amount,
      currency: requests.currency,
      metadata: requests.metadata,
      submitterRef: members.externalRef,
    })
    .from(requests)
    .innerJoin(members, eq(members.id, requests.submitterId))
    .where(and(eq(requests.id, input.requestId), input.tenantId ? eq(requests.tenantId, input.tenantId) : undefined));
  if (!request) throw new DomainError("not_found", `No request ${input.requestId}.`);
  const tenantId = request.tenantId;
  const keys = await signer.keyResolver(db);
  const rows = await db
    .select()
    .from(receipts)
    .where(and(eq(receipts.tenantId, tenantId), eq(receipts.requestId, request.id)))
    .orderBy(asc(receipts.position));
  const checkpoint = checkpointView(await latestCheckpoint(db, tenantId), keys);
  const covered = checkpoint?.body && rows.some((r) => r.position < (checkpoint.body?.treeSize ?? 0));
  const leaves = covered && checkpoint.body ? await leafHashes(db, tenantId, checkpoint.body.treeSize) : [];
  const decisionIds = rows.map((r) => r.decisionId).filter((id): id is string => id !== null);
  const decided = decisionIds.length
    ? await db
        .select({ id: decisions.id, decision: decisions.decision, comment: decisions.comment, approverRef: members.externalRef })
        .from(decisions)
        .innerJoin(members, eq(members.id, decisions.approverId))
        .where(and(eq(decisions.tenantId, tenantId), inArray(decisions.id, decisionIds)))
    : [];
  const content = requestContentDigest({ ...request, type: request.requestType });

  const reasons: string[] = [];
  if (checkpoint && !checkpoint.valid) reasons.push("The latest checkpoint's signature does not verify.");
  const views = rows.map((row): ReceiptView => {
    const envelope = envelopeOf(row);
    const problems: string[] = [];
    const checked = verifyReceiptEnvelope(envelope, keys);
    const body = checked.ok ? checked.body : null;
    if (!checked.ok) problems.push(`Signature: ${checked.reason}.`);
    const leaf = receiptLeafHash(envelope);
    if (leaf !== row.leafHash) problems.push("The stored leaf hash does not match the receipt.");
    if (body) {
      if (body.requestId !== request.id || body.tenant.id !== tenantId) problems.push("The receipt is signed for another request.");
      if (body.log.position !== row.position) problems.push(`Signed for log position ${body.log.position}, stored at ${row.position}.`);
      if (body.contentDigest !== content) problems.push("The request's content differs from what was signed.");
      if (body.kind === "decision") {
        const stored = decided.find((d) => d.id === row.decisionId);
        if (!stored) problems.push("The decision this receipt records is missing.");
        else if (
          stored.decision !== body.decision ||
          stored.approverRef !== body.approver.ref ||
          (stored.comment ? sha256Digest(stored.comment) : null) !== body.commentDigest
        )
          problems.push("The stored decision differs from the signed one.");
      }
    }
    let proof: InclusionProofView | null = null;
    const cp = checkpoint?.body;
    if (cp && row.position < cp.treeSize) {
      if (leaves.length < cp.treeSize)
        problems.push(`The log has fewer entries than the checkpoint's ${cp.treeSize}: entries were deleted.`);
      else {
        proof = {
          leafIndex: row.position,
          treeSize: cp.treeSize,
          hashes: inclusionProof(leaves, row.position, cp.treeSize).map((h) => h.toString("hex")),
        };
        if (!verifyInclusion(envelope, row.position, cp, proof.hashes))
          problems.push("Not included in the signed checkpoint: the log was changed.");
      }
    }
    return {
      id: row.id,
      position: row.position,
      kind: row.kind,
      envelope,
      body,
      leafHash: leaf,
      inclusionProof: proof,
      valid: problems.length === 0,
      reasons: problems.length
        ? problems
        : [
            proof
              ? "Signed by a published key and included in the latest checkpoint."
              : "Signed by a published key; not yet covered by a checkpoint.",
          ],
    };
  });
  for (const view of views)
    for (const reason of view.valid ? [] : view.reasons) reasons.push(`Receipt at position ${view.position}: ${reason}`);
  const valid = reasons.length === 0 && views.length > 0;
  if (views.length === 0) reasons.push("No decision has been recorded on this request yet: nothing to verify.");
  else if (valid) reasons.push(`All ${views.length} receipts verify against the published keys and the tenant's log.`);
  return { requestId: request.id, valid, reasons, receipts: views, checkpoint, keySetUrl: KEY_SET_PATH };
}

export interface EnvelopeVerification {
  valid: boolean;
  reasons: string[];
  keyid: string | null;
  body: ReceiptBody | null;
  /** Whether the product's log holds this exact receipt at the position it was signed for. */
  inLog: boolean;
  inclusionProof: InclusionProofView | null;
  checkpoint: CheckpointView | null;
  keySetUrl: string;
}

/**
 * Verifies a receipt someone holds: the signature against the published keys, its presence in
 * the tenant's log, and its inclusion in the latest checkpoint (or in the checkpoint and proof sent).
 */
export async function verifyEnvelope(
  db: Database,
  signer: ReceiptSigner,
  input: { envelope: DsseEnvelope; proof?: InclusionProofView; checkpoint?: DsseEnvelope },
): Promise<EnvelopeVerification> {
  const keys = await signer.keyResolver(db);
  const reasons: string[] = [];
  const checked = verifyReceiptEnvelope(input.envelope, keys);
  const base = { keySetUrl: KEY_SET_PATH, inLog: false, inclusionProof: null, checkpoint: null };
  if (!checked.ok) return { ...base, valid: false, reasons: [`Signature: ${checked.reason}.`], keyid: null, body: null };
  const body = checked.body;
  const leaf = receiptLeafHash(input.envelope);
  const [tenant] = await db.select({ id: tenants.id }).from(tenants).where(eq(tenants.id, body.tenant.id));
  const [stored] = tenant
    ? await db
        .select({ leafHash: receipts.leafHash })
        .from(receipts)
        .where(and(eq(receipts.tenantId, body.tenant.id), eq(receipts.position, body.log.position)))
    : [];
  const inLog = stored?.leafHash === leaf;
  if (!inLog)
    reasons.push(`The log of tenant ${body.tenant.slug} has no such receipt at position ${body.log.position}: removed or replaced.`);

  let checkpoint: CheckpointView | null = null;
  let proof: InclusionProofView | null = null;
  if (input.checkpoint) {
    // Offline-style: the caller's own checkpoint and proof, checked without the log.
    const cp = verifyCheckpointEnvelope(input.checkpoint, keys);
    checkpoint = { envelope: input.checkpoint, body: cp.ok ? cp.body : null, valid: cp.ok };
    if (!cp.ok) reasons.push(`Checkpoint: ${cp.reason}.`);
    else if (!input.proof) reasons.push("A checkpoint was sent without an inclusion proof.");
    else if (
      input.proof.leafIndex !== body.log.position ||
      !verifyInclusion(input.envelope, input.proof.leafIndex, cp.body, input.proof.hashes)
    )
      reasons.push("The inclusion proof does not lead to the checkpoint's root.");
    else proof = input.proof;
  } else if (tenant) {
    checkpoint = checkpointView(await latestCheckpoint(db, body.tenant.id), keys);
    const cp = checkpoint?.body;
    if (checkpoint && !checkpoint.valid) reasons.push("The latest checkpoint's signature does not verify.");
    if (cp && body.log.position < cp.treeSize) {
      const leaves = await leafHashes(db, body.tenant.id, cp.treeSize);
      if (leaves.length === cp.treeSize) {
        proof = {
          leafIndex: body.log.position,
          treeSize: cp.treeSize,
          hashes: inclusionProof(leaves, body.log.position, cp.treeSize).map((h) => h.toString("hex")),
        };
        if (!verifyInclusion(input.envelope, body.log.position, cp, proof.hashes))
          reasons.push("Not included in the latest signed checkpoint.");
      } else reasons.push("The log has fewer entries than its latest checkpoint: entries were deleted.");
    }
  }
  const valid = reasons.length === 0;
  if (valid)
    reasons.push(
      proof
        ? "Signed by a published key and included in a signed checkpoint of the log."
        : "Signed by a published key and present in the log; not yet covered by a checkpoint.",
    );
  return { valid, reasons, keyid: checked.keyid, body, inLog, inclusionProof: proof, checkpoint, keySetUrl: KEY_SET_PATH };
}
