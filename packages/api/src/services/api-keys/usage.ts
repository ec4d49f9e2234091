import { type Database, apiKeyUsage, apiKeys, inArray, sql } from "@approvalmatrix/db";

/** How often an instance writes what its keys did: a few statements every few seconds, never one per call. */
export const USAGE_FLUSH_MS = 5_000;

interface Pending {
  tenantId: string;
  day: string;
  count: number;
  lastUsedAt: Date;
}

/**
 * Per-key usage (calls per UTC day, last use), counted in memory on the hot path and written in
 * one batch per flush: an upsert that adds this instance's counts to the day's row, and one update
 * of last_used_at. Several instances add up; a crash loses at most one flush interval of counts.
 */
export class KeyUsageRecorder {
  private pending = new Map<string, Pending>();
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();

  constructor(private readonly db: Database) {}

  record(keyId: string, tenantId: string, at: Date): void {
    const day = at.toISOString().slice(0, 10);
    const mapKey = `${keyId} ${day}`;
    const entry = this.pending.get(mapKey);
    if (entry) {
      entry.count += 1;
      entry.lastUsedAt = at;
    } else {
      this.pending.set(mapKey, { tenantId, day, count: 1, lastUsedAt: at });
    }
    this.timer ??= setTimeout(() => void this.flush(), USAGE_FLUSH_MS).unref();
  }

  /** Writes what was counted so far (tests and shutdown call it; otherwise the timer does). */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const batch = this.pending;
    this.pending = new Map();
    this.flushing = this.flushing
      .then(() => this.write(batch))
      .catch((error: unknown) => console.warn("could not record API key usage:", error));
    return this.flushing;
  }

  private async write(batch: Map<string, Pending>): Promise<void> {
    if (batch.size === 0) return;
    const rows = [...batch].map(([mapKey, p]) => ({ keyId: mapKey.split(" ")[0] ?? "", tenantId: p.tenantId, day: p.day, count: p.count }));
    await this.db
      .insert(apiKeyUsage)
      .values(rows)
      .onConflictDoUpdate({ target: [apiKeyUsage.keyId, apiKeyUsage.day], set: { count: sql`${apiKeyUsage.count} + excluded.count` } });
    const latest = new Map<string, Date>();
    for (const [mapKey, p] of batch) {
      const keyId = mapKey.split(" ")[0] ?? "";
      const seen = latest.get(keyId);
      if (!seen || seen < p.lastUsedAt) latest.set(keyId, p.lastUsedAt);
    }
    // One statement for every key used: last_used_at = the later of the stored and the new time.
    const cases = sql.join(
      [...latest].map(([id, at]) => sql`when ${id} then ${at.toISOString()}::timestamptz`),
      sql` `,
    );
    await this.db
      .update(apiKeys)
      .set({ lastUsedAt: sql`greatest(${apiKeys.lastUsedAt}, case ${apiKeys.id} ${cases} end)` })
      .where(inArray(apiKeys.id, [...latest.keys()]));
  }
}

const recorders = new WeakMap<Database, KeyUsageRecorder>();

/** The recorder of `db` (one per database handle and process). */
export function keyUsageRecorder(db: Database): KeyUsageRecorder {
  let recorder = recorders.get(db);
  if (!recorder) recorders.set(db, (recorder = new KeyUsageRecorder(db)));
  return recorder;
}
