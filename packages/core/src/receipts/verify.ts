/**
 * Verification, as an outside auditor would do it: nothing here trusts the database. A receipt is
 * valid when a published key signed it; a log is intact when every entry is signed, sits at the
 * position it was signed for and chains to the one before it, and every signed checkpoint's root
 * is the root of the entries it covers.
 */
import type { KeyObject } from "node:crypto";
import { type DsseEnvelope, verifyEnvelopeSignature } from "./dsse";
import { appendToRange, type CompactRange, rangeRoot, rootFromInclusionProof } from "./merkle";
import {
  CHECKPOINT_PAYLOAD_TYPE,
  type CheckpointBody,
  DECISION_PAYLOAD_TYPE,
  OUTCOME_PAYLOAD_TYPE,
  type ReceiptBody,
  decodeCanonicalPayload,
  receiptLeafHash,
} from "./receipt";

/** Finds a published public key by its id (kid); undefined when none has it. */
export type KeyResolver = (kid: string) => KeyObject | undefined;

export type EnvelopeCheck<T> = { ok: true; body: T; keyid: string } | { ok: false; reason: string };

function checkEnvelope<T>(envelope: DsseEnvelope, payloadTypes: readonly string[], keys: KeyResolver): EnvelopeCheck<T> {
  if (!payloadTypes.includes(envelope.payloadType)) return { ok: false, reason: `unexpected payloadType ${envelope.payloadType}` };
  // Room for witnesses: a checkpoint may carry more signatures; one by a published key is required.
  const signed = envelope.signatures.find((s) => {
    const key = keys(s.keyid);
    return key !== undefined && verifyEnvelopeSignature(envelope, s, key);
  });
  if (!signed) {
    const known = envelope.signatures.some((s) => keys(s.keyid));
    return { ok: false, reason: known ? "signature does not verify" : "signed by no published key" };
  }
  const body = decodeCanonicalPayload<T>(envelope);
  if (body === null) return { ok: false, reason: "payload is not RFC 8785 canonical JSON" };
  return { ok: true, body, keyid: signed.keyid };
}

export function verifyReceiptEnvelope(envelope: DsseEnvelope, keys: KeyResolver): EnvelopeCheck<ReceiptBody> {
  const checked = checkEnvelope<ReceiptBody>(envelope, [DECISION_PAYLOAD_TYPE, OUTCOME_PAYLOAD_TYPE], keys);
  if (!checked.ok) return checked;
  const expectedKind = envelope.payloadType === DECISION_PAYLOAD_TYPE ? "decision" : "outcome";
  if (checked.body.kind !== expectedKind) return { ok: false, reason: "payload kind does not match payloadType" };
  return checked;
}

export function verifyCheckpointEnvelope(envelope: DsseEnvelope, keys: KeyResolver): EnvelopeCheck<CheckpointBody> {
  return checkEnvelope<CheckpointBody>(envelope, [CHECKPOINT_PAYLOAD_TYPE], keys);
}

/** True when the receipt's leaf is in the tree the checkpoint signed, by the given audit path. */
export function verifyInclusion(envelope: DsseEnvelope, index: number, checkpoint: CheckpointBody, proof: readonly string[]): boolean {
  const root = rootFromInclusionProof(
    Buffer.from(receiptLeafHash(envelope), "hex"),
    index,
    checkpoint.treeSize,
    proof.map((p) => Buffer.from(p, "hex")),
  );
  return root !== null && root.toString("hex") === checkpoint.rootHash;
}

export interface LogProblem {
  position: number;
  reason: string;
}

export interface LogVerdict {
  valid: boolean;
  size: number;
  /** The first position at which the log is not what was signed; null when intact. */
  firstBadPosition: number | null;
  problems: LogProblem[];
  checkpointsChecked: number;
  /** The largest checkpoint that verified against the log. */
  verifiedTreeSize: number;
}

/** A log entry as stored: the position the store claims, and the envelope. */
export interface StoredLogEntry {
  position: number;
  envelope: DsseEnvelope;
  /** The leaf hash the store keeps beside the entry, if any: checked too. */
  leafHash?: string;
}

/**
 * Walks one tenant's log in stored order, entry by entry (feed it page by page; `add` is cheap),
 * then checks every checkpoint against the roots seen. Reports each problem and the first bad position.
 */
export class LogVerifier {
  private range: CompactRange = [];
  private readonly roots = new Map<number, string>();
  private readonly checkpoints: { envelope: DsseEnvelope; check: EnvelopeCheck<CheckpointBody> }[];
  /** Only the roots at the sizes some checkpoint signed are kept: memory stays small for long logs. */
  private readonly wantedSizes = new Set<number>();
  private previousLeaf: string | null = null;
  private count = 0;
  readonly problems: LogProblem[] = [];

  constructor(
    private readonly tenantId: string,
    private readonly keys: KeyResolver,
    checkpoints: readonly DsseEnvelope[],
  ) {
    this.checkpoints = checkpoints.map((envelope) => ({ envelope, check: verifyCheckpointEnvelope(envelope, keys) }));
    for (const { check } of this.checkpoints) if (check.ok) this.wantedSizes.add(check.body.treeSize);
    this.roots.set(0, rangeRoot([]).toString("hex"));
  }

  get size(): number {
    return this.count;
  }

  add(entry: StoredLogEntry): void {
    const position = this.count;
    const problem = (reason: string) => this.problems.push({ position, reason });
    if (entry.position !== position) {
      problem(
        entry.position > position
          ? `entry ${position} is missing (next stored entry claims ${entry.position}): deleted`
          : `stored position ${entry.position} repeats or goes back: inserted or reordered`,
      );
    }
    const leaf = receiptLeafHash(entry.envelope);
    if (entry.leafHash !== undefined && entry.leafHash !== leaf) problem("stored leaf hash does not match the entry: changed");
    const checked = verifyReceiptEnvelope(entry.envelope, this.keys);
    if (!checked.ok) problem(`${checked.reason}: changed or forged`);
    else {
      const { body } = checked;
      if (body.tenant.id !== this.tenantId) problem(`signed for tenant ${body.tenant.id}: moved from another log`);
      if (body.log.position !== position) problem(`signed for position ${body.log.position}: reordered, inserted or deleted`);
      if (body.log.previousLeafHash !== this.previousLeaf) problem("does not chain to the entry before it: reordered, inserted or deleted");
    }
    this.range = appendToRange(this.range, position, Buffer.from(leaf, "hex"));
    this.previousLeaf = leaf;
    this.count++;
    if (this.wantedSizes.has(this.count)) this.roots.set(this.count, rangeRoot(this.range).toString("hex"));
  }

  /** Checks the checkpoints against the roots seen and returns the verdict. */
  finish(): LogVerdict {
    let verifiedTreeSize = 0;
    for (const { check: checked } of this.checkpoints) {
      if (!checked.ok) {
        this.problems.push({ position: this.count, reason: `a checkpoint: ${checked.reason}` });
        continue;
      }
      const { treeSize, rootHash, tenant } = checked.body;
      if (tenant.id !== this.tenantId) {
        this.problems.push({ position: this.count, reason: `a checkpoint of tenant ${tenant.id}` });
        continue;
      }
      if (treeSize > this.count) {
        this.problems.push({
          position: this.count,
          reason: `checkpoint of size ${treeSize} signed, but the log has ${this.count} entries: entries from ${this.count} deleted`,
        });
        continue;
      }
      if (this.roots.get(treeSize) !== rootHash) {
        this.problems.push({ position: treeSize - 1, reason: `root of the first ${treeSize} entries differs from the signed checkpoint` });
        continue;
      }
      verifiedTreeSize = Math.max(verifiedTreeSize, treeSize);
    }
    const firstBadPosition = this.problems.length ? Math.min(...this.problems.map((p) => p.position)) : null;
    this.problems.sort((a, b) => a.position - b.position);
    return {
      valid: firstBadPosition === null,
      size: this.count,
      firstBadPosition,
      problems: this.problems,
      checkpointsChecked: this.checkpoints.length,
      verifiedTreeSize,
    };
  }
}

/** The whole log at once (tests, small logs). */
export function verifyLog(
  tenantId: string,
  entries: readonly StoredLogEntry[],
  checkpoints: readonly DsseEnvelope[],
  keys: KeyResolver,
): LogVerdict {
  const verifier = new LogVerifier(tenantId, keys, checkpoints);
  for (const entry of entries) verifier.add(entry);
  return verifier.finish();
}
