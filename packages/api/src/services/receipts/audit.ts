/**
 * Walks a tenant's whole receipt log as an outside auditor would (core LogVerifier): page by page
 * in position order, checking every signature, position and hash link, then every checkpoint.
 */
import { type LogVerdict, LogVerifier, publicKeyFromJwk, verifyCheckpointEnvelope } from "@approvalmatrix/core";
import { type Database, and, asc, eq, gt, receiptCheckpoints, receiptLogs, receipts } from "@approvalmatrix/db";
import type { ReceiptSigner } from "./keys";
import { latestCheckpoint } from "./verify";

const PAGE_SIZE = 1000;

export async function auditTenantLog(
  db: Database,
  signer: ReceiptSigner,
  tenantId: string,
  onProgress?: (progress: { done: number; total: number }) => void,
): Promise<LogVerdict> {
  const keys = await signer.keyResolver(db);
  const checkpoints = await db.select().from(receiptCheckpoints).where(eq(receiptCheckpoints.tenantId, tenantId));
  const [head] = await db.select({ size: receiptLogs.size }).from(receiptLogs).where(eq(receiptLogs.tenantId, tenantId));
  const total = head?.size ?? 0;
  const verifier = new LogVerifier(
    tenantId,
    keys,
    checkpoints.map((c) => ({ payload: c.payload, payloadType: c.payloadType, signatures: c.signatures })),
  );
  // Paging on position: the unique index (tenant_id, position) holds even with the trigger dropped.
  let after = -1;
  for (;;) {
    const page = await db
      .select()
      .from(receipts)
      .where(and(eq(receipts.tenantId, tenantId), gt(receipts.position, after)))
      .orderBy(asc(receipts.position))
      .limit(PAGE_SIZE);
    for (const row of page) {
      verifier.add({
        position: row.position,
        envelope: { payload: row.payload, payloadType: row.payloadType, signatures: row.signatures },
        leafHash: row.leafHash,
      });
    }
    onProgress?.({ done: verifier.size, total: Math.max(total, verifier.size) });
    const last = page.at(-1);
    if (!last || page.length < PAGE_SIZE) break;
    after = last.position;
  }
  const verdict = verifier.finish();
  if (total > verdict.size && verdict.valid) {
    // The head says more entries were appended than the log holds: the last ones were deleted.
    return {
      ...verdict,
      valid: false,
      firstBadPosition: verdict.size,
      problems: [{ position: verdict.size, reason: `the log head counts ${total} entries, ${total - verdict.size} are gone: deleted` }],
    };
  }
  return verdict;
}

/** The log's state for the admin app: its size and latest checkpoint, checked. */
export async function logState(db: Database, signer: ReceiptSigner, tenantId: string) {
  const [head] = await db.select().from(receiptLogs).where(eq(receiptLogs.tenantId, tenantId));
  const row = await latestCheckpoint(db, tenantId);
  const keys = await signer.keySet(db);
  let checkpoint = null;
  if (row) {
    const envelope = { payload: row.payload, payloadType: row.payloadType, signatures: row.signatures };
    const byKid = new Map(keys.map((k) => [k.kid, publicKeyFromJwk(k)]));
    const checked = verifyCheckpointEnvelope(envelope, (kid) => byKid.get(kid));
    checkpoint = {
      treeSize: row.treeSize,
      rootHash: row.rootHash,
      issuedAt: row.createdAt.toISOString(),
      keyid: row.signatures[0]?.keyid ?? "",
      valid: checked.ok && checked.body.rootHash === row.rootHash && checked.body.treeSize === row.treeSize,
      envelope,
    };
  }
  return { size: head?.size ?? 0, checkpointedSize: head?.checkpointedSize ?? 0, checkpoint, keys };
}
