/**
 * Appending to a tenant's receipt log. The head row (size, compact range, last leaf) is locked
 * for the rest of the caller's transaction, so one tenant's appends are serialized and positions
 * have no gaps: a decision and its receipts commit together or not at all.
 */
import {
  CHECKPOINT_PAYLOAD_TYPE,
  type CheckpointBody,
  type DecisionReceiptBody,
  type DsseEnvelope,
  type OutcomeReceiptBody,
  RECEIPT_VERSION,
  type ReceiptBody,
  appendToRange,
  encodeBody,
  logOrigin,
  newId,
  payloadTypeOf,
  rangeRoot,
  receiptLeafHash,
  signEnvelope,
} from "@approvalmatrix/core";
import { type Database, type Queryable, eq, gt, receiptCheckpoints, receiptLogs, receipts, signingKeys, tenants } from "@approvalmatrix/db";
import type { ReceiptSigner } from "./keys";

type Unplaced<T> = Omit<T, "tenant" | "log" | "version">;
export type ReceiptDraft = (Unplaced<DecisionReceiptBody> | Unplaced<OutcomeReceiptBody>) & { decisionId?: string | null };

interface LockedLog {
  tenant: { id: string; slug: string };
  size: number;
  range: string[];
  lastLeafHash: string | null;
  checkpointedSize: number;
  key: { kid: string; privateKeyEncrypted: string };
}

/** Locks the tenant's log head (creating it on first use) and reads the active signing key. */
async function lockLog(tx: Queryable, tenantId: string): Promise<LockedLog> {
  const read = () =>
    tx
      .select({
        slug: tenants.slug,
        size: receiptLogs.size,
        range: receiptLogs.compactRange,
        lastLeafHash: receiptLogs.lastLeafHash,
        checkpointedSize: receiptLogs.checkpointedSize,
        kid: signingKeys.kid,
        privateKeyEncrypted: signingKeys.privateKeyEncrypted,
      })
      .from(receiptLogs)
      .innerJoin(tenants, eq(tenants.id, receiptLogs.tenantId))
      .innerJoin(signingKeys, eq(signingKeys.status, "active"))
      .where(eq(receiptLogs.tenantId, tenantId))
      .for("update", { of: receiptLogs });
  let [row] = await read();
  if (!row) {
    await tx.insert(receiptLogs).values({ tenantId }).onConflictDoNothing();
    [row] = await read();
  }
  if (!row) throw new Error("No active receipt-signing key: the server creates one at start-up (ReceiptSigner.ensureKeys).");
  return {
    tenant: { id: tenantId, slug: row.slug },
    size: row.size,
    range: row.range,
    lastLeafHash: row.lastLeafHash,
    checkpointedSize: row.checkpointedSize,
    key: { kid: row.kid, privateKeyEncrypted: row.privateKeyEncrypted },
  };
}

function signCheckpointBody(signer: ReceiptSigner, log: LockedLog, now: Date): { body: CheckpointBody; envelope: DsseEnvelope } {
  const body: CheckpointBody = {
    version: RECEIPT_VERSION,
    origin: logOrigin(log.tenant.id),
    tenant: log.tenant,
    treeSize: log.size,
    rootHash: rangeRoot(log.range).toString("hex"),
    issuedAt: now.toISOString(),
  };
  const privateKey = signer.privateKey(log.key.kid, log.key.privateKeyEncrypted);
  return { body, envelope: signEnvelope(CHECKPOINT_PAYLOAD_TYPE, encodeBody(body), { keyid: log.key.kid, privateKey }) };
}

async function insertCheckpoint(tx: Queryable, tenantId: string, signed: { body: CheckpointBody; envelope: DsseEnvelope }, now: Date) {
  await tx.insert(receiptCheckpoints).values({
    id: newId("checkpoint"),
    tenantId,
    treeSize: signed.body.treeSize,
    rootHash: signed.body.rootHash,
    payloadType: signed.envelope.payloadType,
    payload: signed.envelope.payload,
    signatures: signed.envelope.signatures,
    createdAt: now,
  });
}

/**
 * Signs `drafts` in order, appends them to the tenant's log and, when `checkpoint` is set (a
 * terminal outcome), signs a checkpoint of the log including them. Call inside the transaction
 * that makes the change the receipts speak of.
 */
export async function appendReceipts(
  tx: Queryable,
  signer: ReceiptSigner,
  tenantId: string,
  requestId: string,
  drafts: ReceiptDraft[],
  opts: { now: Date; checkpoint: boolean },
): Promise<void> {
  if (drafts.length === 0 && !opts.checkpoint) return;
  const log = await lockLog(tx, tenantId);
  const privateKey = signer.privateKey(log.key.kid, log.key.privateKeyEncrypted);
  const rows: (typeof receipts.$inferInsert)[] = [];
  for (const { decisionId, ...draft } of drafts) {
    const body = {
      version: RECEIPT_VERSION,
      ...draft,
      tenant: log.tenant,
      log: { position: log.size, previousLeafHash: log.lastLeafHash },
    } as ReceiptBody;
    const envelope = signEnvelope(payloadTypeOf(body), encodeBody(body), { keyid: log.key.kid, privateKey });
    const leaf = receiptLeafHash(envelope);
    rows.push({
      id: newId("receipt"),
      tenantId,
      position: log.size,
      requestId,
      decisionId: decisionId ?? null,
      kind: body.kind,
      payloadType: envelope.payloadType,
      payload: envelope.payload,
      signatures: envelope.signatures,
      leafHash: leaf,
      createdAt: opts.now,
    });
    log.range = appendToRange(log.range, log.size, Buffer.from(leaf, "hex"));
    log.lastLeafHash = leaf;
    log.size++;
  }
  if (rows.length) await tx.insert(receipts).values(rows);
  const checkpointed = opts.checkpoint && log.size > log.checkpointedSize;
  if (checkpointed) await insertCheckpoint(tx, tenantId, signCheckpointBody(signer, log, opts.now), opts.now);
  await tx
    .update(receiptLogs)
    .set({
      size: log.size,
      compactRange: log.range,
      lastLeafHash: log.lastLeafHash,
      ...(checkpointed ? { checkpointedSize: log.size } : {}),
      updatedAt: opts.now,
    })
    .where(eq(receiptLogs.tenantId, tenantId));
}

/**
 * The periodic checkpoint: signs one for every tenant whose log grew since its last one. Each
 * tenant in its own short transaction, so a busy log is locked only briefly.
 */
export async function checkpointGrownLogs(db: Database, signer: ReceiptSigner, now = new Date()): Promise<number> {
  const grown = await db
    .select({ tenantId: receiptLogs.tenantId })
    .from(receiptLogs)
    .where(gt(receiptLogs.size, receiptLogs.checkpointedSize));
  let signed = 0;
  for (const { tenantId } of grown) {
    await db.transaction(async (tx) => {
      const log = await lockLog(tx, tenantId);
      if (log.size <= log.checkpointedSize) return;
      await insertCheckpoint(tx, tenantId, signCheckpointBody(signer, log, now), now);
      await tx.update(receiptLogs).set({ checkpointedSize: log.size }).where(eq(receiptLogs.tenantId, tenantId));
      signed++;
    });
  }
  return signed;
}
