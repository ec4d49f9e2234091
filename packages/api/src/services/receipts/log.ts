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
  leafHash,
  signEnvelope,
} from "@approvalmatrix/core";
import {
  type Database,
  type Queryable,
  eq,
  gt,
  receiptCheckpoints,
  receiptLogs,
  type receipts,
  rowsOf,
  signingKeys,
  sql,
  tenants,
  timestamptz,
} from "@approvalmatrix/db";
import type { ReceiptSigner } from "./keys";

type Unplaced<T> = Omit<T, "tenant" | "log" | "version">;
export type ReceiptDraft = (Unplaced<DecisionReceiptBody> | Unplaced<OutcomeReceiptBody>) & { decisionId?: string | null };

/** A tenant's log head and the active key: read under the log's lock, or as the signer's own last append left it. */
export interface LockedLog {
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

type ReceiptRow = typeof receipts.$inferInsert;

interface PlannedAppend {
  rows: ReceiptRow[];
  checkpoint: { body: CheckpointBody; envelope: DsseEnvelope } | null;
  /** The head after the append. */
  head: LockedLog;
}

/** Signs `drafts` in order on top of `head` (CPU only: positions, chain, compact range, checkpoint). */
function planAppend(
  signer: ReceiptSigner,
  head: LockedLog,
  requestId: string,
  drafts: ReceiptDraft[],
  opts: { now: Date; checkpoint: boolean },
): PlannedAppend {
  const log: LockedLog = { ...head };
  const privateKey = signer.privateKey(log.key.kid, log.key.privateKeyEncrypted);
  const rows: ReceiptRow[] = [];
  for (const { decisionId, ...draft } of drafts) {
    const body = {
      version: RECEIPT_VERSION,
      ...draft,
      tenant: log.tenant,
      log: { position: log.size, previousLeafHash: log.lastLeafHash },
    } as ReceiptBody;
    const bytes = encodeBody(body);
    const envelope = signEnvelope(payloadTypeOf(body), bytes, { keyid: log.key.kid, privateKey });
    // receiptLeafHash(envelope), without decoding the payload just encoded.
    const leaf = leafHash(bytes).toString("hex");
    rows.push({
      id: newId("receipt"),
      tenantId: log.tenant.id,
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
  const checkpoint = opts.checkpoint && log.size > log.checkpointedSize ? signCheckpointBody(signer, log, opts.now) : null;
  if (checkpoint) log.checkpointedSize = log.size;
  return { rows, checkpoint, head: log };
}

/**
 * Writes a planned append in one statement: the head update, the receipts and the checkpoint (the
 * inserts take their rows from the update's, so they happen only if it did). With `expected` the
 * update applies only if the head, the tenant's slug and the active key are still what the plan
 * was signed on; the row lock the update takes then serializes the tenant's appends exactly as
 * lockLog's does. False when it did not apply (nothing was written).
 */
async function writeAppend(tx: Queryable, planned: PlannedAppend, now: Date, expected: LockedLog | null): Promise<boolean> {
  const { head, rows, checkpoint } = planned;
  const at = timestamptz(now);
  const guard = expected
    ? sql` and size = ${expected.size} and last_leaf_hash is not distinct from ${expected.lastLeafHash}
           and compact_range = ${JSON.stringify(expected.range)}::jsonb
           and exists (select 1 from signing_keys where kid = ${expected.key.kid} and status = 'active')
           and exists (select 1 from tenants where id = ${expected.tenant.id} and slug = ${expected.tenant.slug})`
    : sql``;
  const values = rows.map(
    (r) =>
      sql`(${r.id}, ${r.position}::int, ${r.requestId}, ${r.decisionId ?? null}, ${r.kind}, ${r.payloadType}, ${r.payload}, ${JSON.stringify(r.signatures)}::jsonb, ${r.leafHash})`,
  );
  const insertReceipts = rows.length
    ? sql`, appended as (
        insert into receipts (id, tenant_id, position, request_id, decision_id, kind, payload_type, payload, signatures, leaf_hash, created_at)
        select r.id, head.tenant_id, r.position, r.request_id, r.decision_id, r.kind, r.payload_type, r.payload, r.signatures, r.leaf_hash, ${at}
          from head cross join (values ${sql.join(values, sql`, `)})
            as r (id, position, request_id, decision_id, kind, payload_type, payload, signatures, leaf_hash)
      )`
    : sql``;
  const insertCheckpoint = checkpoint
    ? sql`, checkpointed as (
        insert into receipt_checkpoints (id, tenant_id, tree_size, root_hash, payload_type, payload, signatures, created_at)
        select ${newId("checkpoint")}, head.tenant_id, ${checkpoint.body.treeSize}::int, ${checkpoint.body.rootHash},
               ${checkpoint.envelope.payloadType}, ${checkpoint.envelope.payload}, ${JSON.stringify(checkpoint.envelope.signatures)}::jsonb,
               ${at}
          from head
      )`
    : sql``;
  const result = await tx.execute(sql`
    with head as (
      update receipt_logs
         set size = ${head.size}::int, compact_range = ${JSON.stringify(head.range)}::jsonb, last_leaf_hash = ${head.lastLeafHash},
             ${checkpoint ? sql`checkpointed_size = ${head.size}::int, ` : sql``}updated_at = ${at}
       where tenant_id = ${head.tenant.id}${guard}
      returning tenant_id
    )${insertReceipts}${insertCheckpoint}
    select count(*)::int as n from head`);
  return rowsOf<{ n: number }>(result)[0]?.n === 1;
}

/**
 * Signs `drafts` in order, appends them to the tenant's log and, when `checkpoint` is set (a
 * terminal outcome), signs a checkpoint of the log including them. Call inside the transaction
 * that makes the change the receipts speak of.
 *
 * One round trip in the usual case: the signer remembers the head its last append left, signs on
 * it and writes with a guard that the head is unchanged. When another writer (an instance, a
 * concurrent or rolled-back transaction) moved it, the guard fails and the append takes the log's
 * lock, reads the head and signs again: two round trips. The periodic checkpoint moves no head
 * (only checkpointed_size, which an append with drafts always passes), so it needs no guard.
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
  const known = drafts.length ? signer.knownHead(tenantId) : undefined;
  if (known) {
    const planned = planAppend(signer, known, requestId, drafts, opts);
    if (await writeAppend(tx, planned, opts.now, known)) return signer.rememberHead(planned.head);
  }
  const planned = planAppend(signer, await lockLog(tx, tenantId), requestId, drafts, opts);
  if (!(await writeAppend(tx, planned, opts.now, null))) throw new Error(`The receipt log of tenant ${tenantId} vanished while locked.`);
  signer.rememberHead(planned.head);
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
