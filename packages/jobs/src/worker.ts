import { AsyncResource } from "node:async_hooks";
import { hostname } from "node:os";
import { type Clock, newId, randomBase62, systemClock } from "@approvalmatrix/core";
import {
  type Database,
  type Queryable,
  and,
  asc,
  eq,
  executePrepared,
  inArray,
  isNull,
  jobs,
  lte,
  or,
  sql,
  timestamptz,
} from "@approvalmatrix/db";

export interface ClaimedJob {
  id: string;
  kind: string;
  payload: Record<string, unknown>;
  tenantId: string | null;
  dedupeKey: string | null;
  /** 1 on the first run. */
  attempt: number;
  maxAttempts: number;
  runAt: Date;
  createdAt: Date;
}

export interface JobContext {
  db: Database;
  /** The worker's clock when the job was claimed. */
  now: Date;
  clock: Clock;
  workerId: string;
  /**
   * Asks this worker to run periodic job `kind` soon (Worker.nudge): a run that made work for
   * another kind (the dispatcher, deliveries) hands it on without waiting for that kind's tick.
   */
  nudge: (kind: string) => void;
}

/**
 * Runs one job. Return nothing when it is done (the row is deleted), `{ retryAt }` to run it again
 * later without counting a failure (a webhook's next scheduled attempt), or throw to fail: it is
 * retried with exponential backoff and jitter until its attempts run out, then kept as failed.
 * At-least-once: a job whose worker died mid-run runs again after its lease, so handlers must be
 * idempotent (re-check the state they act on).
 */
export type JobHandler = (job: ClaimedJob, ctx: JobContext) => Promise<void | { retryAt: Date }>;

export interface WorkerOptions {
  db: Database;
  handlers: Record<string, JobHandler>;
  clock?: Clock;
  /** Jobs run at once by this worker (default 4). */
  concurrency?: number;
  /** How often an idle worker looks for due jobs (default 250 ms). */
  pollMs?: number;
  /** How long a claim holds before another worker may take the job again (default 60 s). */
  leaseMs?: number;
  workerId?: string;
  /** Told about every failed run (the job is retried or kept as failed). */
  onError?: (job: ClaimedJob, error: unknown) => void;
}

export interface QueueStats {
  /** Live jobs, due or scheduled. */
  depth: number;
  /** Due jobs waiting to run. */
  due: number;
  /** How late the oldest due job is; null when none is due. */
  oldestAgeMs: number | null;
  /** Jobs that ran out of attempts. */
  failed: number;
}

const MAX_BACKOFF_MS = 60 * 60_000;

/** Delay before retry `attempt` (1-based) of a failed job: 1 s, 2 s, 4 s … capped at an hour, with ±50 % jitter. */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(1000 * 2 ** Math.max(0, attempt - 1), MAX_BACKOFF_MS);
  return Math.round(base * (0.5 + random()));
}

const PERIODIC_PREFIX = "every:";
/** Nudges that arrive this close together share one run (a burst of commits, one dispatch). */
export const NUDGE_COALESCE_MS = 5;

/**
 * The durable job loop. Jobs are rows (table `jobs`); a worker claims due rows with
 * `UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED)`, which sets a lease, so any number of
 * workers in any number of processes share one queue and each job runs once in normal operation.
 * Runs the same on PostgreSQL and on embedded PGlite — which is why it is not pg-boss or
 * graphile-worker: both need a networked PostgreSQL (the `pg` driver, LISTEN on a pool).
 */
export class Worker {
  readonly workerId: string;
  private readonly db: Database;
  private readonly handlers: Record<string, JobHandler>;
  private readonly clock: Clock;
  private readonly concurrency: number;
  private readonly pollMs: number;
  private readonly leaseMs: number;
  private readonly onError: (job: ClaimedJob, error: unknown) => void;
  private readonly periodic = new Map<string, number>();
  private readonly running = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | null = null;
  private started = false;
  private stopping = false;
  private polling: Promise<void> | null = null;
  /** Kinds with a nudged run waiting to start, and the last nudged run of each kind. */
  private readonly nudgeWaiting = new Set<string>();
  private readonly nudgeRuns = new Map<string, Promise<void>>();
  /** Kinds nudged while the worker is not started: runDue runs them before it returns. */
  private readonly nudgedBeforeStart = new Set<string>();
  /**
   * The worker's own async context. A nudge comes from inside a request; the run it starts (and
   * every poll after it) must not carry that request's context along, or with tracing on their
   * statements would join the request's trace.
   */
  private readonly scope = new AsyncResource("approvalmatrix.worker");

  constructor(options: WorkerOptions) {
    this.db = options.db;
    this.handlers = options.handlers;
    this.clock = options.clock ?? systemClock;
    this.concurrency = options.concurrency ?? 4;
    this.pollMs = options.pollMs ?? 250;
    this.leaseMs = options.leaseMs ?? 60_000;
    this.workerId = options.workerId ?? `${hostname()}:${process.pid}:${randomBase62(6)}`;
    this.onError =
      options.onError ??
      ((job, error) =>
        console.warn(
          `job ${job.kind} ${job.id} failed (attempt ${job.attempt}): ${error instanceof Error ? error.message : String(error)}`,
        ));
  }

  /** Runs `kind` every `intervalMs`, once across all instances (one shared row, rescheduled after each run). */
  every(kind: string, intervalMs: number): this {
    if (!this.handlers[kind]) throw new Error(`No handler for periodic job ${kind}`);
    this.periodic.set(kind, intervalMs);
    return this;
  }

  /** Plants the periodic jobs and starts polling. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await this.plantPeriodicJobs();
    // Nudges remembered for runDue: the polling that starts now stands in for them.
    this.nudgedBeforeStart.clear();
    this.schedulePoll(0);
  }

  /** Looks for due jobs now instead of at the next poll (after an in-process enqueue). */
  wake(): void {
    if (this.started && !this.stopping) this.schedulePoll(0);
  }

  /**
   * Runs periodic job `kind` in this process soon, besides its schedule: for work that would
   * otherwise wait for the next interval (events.dispatch after a commit that wrote events).
   * Nudges a few ms apart share one run, one run of a kind at a time; a nudge during a run
   * queues one more after it (the running one may have read before the new commit). The
   * handler must tolerate running beside its scheduled run in another instance (dispatch claims
   * with SKIP LOCKED). No row and no SQL of its own: the scheduled run remains the safety net.
   * Before start(), the kind is remembered instead: runDue runs it before it returns (tests and
   * `cli worker --once` drive the worker that way).
   */
  nudge(kind: string): void {
    this.scope.runInAsyncScope(() => this.schedule(kind));
  }

  private schedule(kind: string): void {
    const handler = this.handlers[kind];
    if (!handler || this.stopping) return;
    if (!this.started) {
      this.nudgedBeforeStart.add(kind);
      return;
    }
    if (this.nudgeWaiting.has(kind)) return;
    this.nudgeWaiting.add(kind);
    const previous = this.nudgeRuns.get(kind) ?? Promise.resolve();
    const run = previous
      .then(() => new Promise<void>((resolve) => setTimeout(resolve, NUDGE_COALESCE_MS).unref()))
      .then(async () => {
        this.nudgeWaiting.delete(kind);
        if (this.stopping) return;
        await this.runNudged(kind, handler);
        // The run may have queued jobs: claim them now.
        this.wake();
      });
    this.nudgeRuns.set(kind, run);
    void run.finally(() => {
      if (this.nudgeRuns.get(kind) === run) this.nudgeRuns.delete(kind);
    });
  }

  private async runNudged(kind: string, handler: JobHandler): Promise<void> {
    const now = this.clock.now();
    const job: ClaimedJob = {
      id: `nudge:${kind}`,
      kind,
      payload: {},
      tenantId: null,
      dedupeKey: null,
      attempt: 1,
      maxAttempts: 1,
      runAt: now,
      createdAt: now,
    };
    try {
      await handler(job, this.context(now));
    } catch (error) {
      this.onError(job, error);
    }
  }

  private context(now: Date): JobContext {
    return { db: this.db, now, clock: this.clock, workerId: this.workerId, nudge: (kind) => this.nudge(kind) };
  }

  /**
   * Stops claiming, then waits up to `deadlineMs` for running jobs. A job still running after
   * that keeps its lease and runs again elsewhere once the lease lapses.
   */
  async stop(deadlineMs = 10_000): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.polling;
    const settled = Promise.allSettled([...this.running, ...this.nudgeRuns.values()]);
    let timeout: NodeJS.Timeout | undefined;
    await Promise.race([settled, new Promise((resolve) => (timeout = setTimeout(resolve, deadlineMs)))]);
    clearTimeout(timeout);
  }

  /**
   * Claims and runs due jobs until none is due, and the kinds they nudged (for tests and
   * `cli worker --once`); returns how many ran. With a ManualClock, advance the clock then call
   * this: no sleeping.
   */
  async runDue(limit = 10_000): Promise<number> {
    await this.plantPeriodicJobs();
    let ran = 0;
    while (ran < limit) {
      const claimed = await this.claim(Math.min(this.concurrency, limit - ran));
      if (claimed.length > 0) {
        await Promise.all(claimed.map((job) => this.execute(job)));
        ran += claimed.length;
        continue;
      }
      const nudged = [...this.nudgedBeforeStart];
      this.nudgedBeforeStart.clear();
      if (nudged.length === 0) break;
      for (const kind of nudged) {
        const handler = this.handlers[kind];
        if (handler) await this.runNudged(kind, handler);
      }
      ran += nudged.length;
    }
    return ran;
  }

  async stats(): Promise<QueueStats> {
    return queueStats(this.db, this.clock.now());
  }

  private async plantPeriodicJobs(): Promise<void> {
    if (this.periodic.size === 0) return;
    const now = this.clock.now();
    await this.db
      .insert(jobs)
      .values(
        [...this.periodic].map(([kind, intervalMs]) => ({
          // A fresh id: instances planting at once then collide on the dedupe key alone, which ON CONFLICT settles.
          id: newId("job"),
          kind,
          payload: { intervalMs },
          dedupeKey: `${PERIODIC_PREFIX}${kind}`,
          runAt: now,
          maxAttempts: 1_000_000,
          createdAt: now,
        })),
      )
      .onConflictDoUpdate({ target: jobs.dedupeKey, set: { payload: sql`excluded.payload`, failedAt: null } });
  }

  private schedulePoll(delayMs: number): void {
    if (this.stopping) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.polling) this.polling = this.poll().finally(() => (this.polling = null));
    }, delayMs);
    this.timer.unref();
  }

  private async poll(): Promise<void> {
    let claimedAny = false;
    try {
      const free = this.concurrency - this.running.size;
      if (free > 0) {
        const claimed = await this.claim(free);
        claimedAny = claimed.length > 0;
        for (const job of claimed) {
          const run = this.execute(job).finally(() => {
            this.running.delete(run);
            // A slot freed: more due work may be waiting.
            this.wake();
          });
          this.running.add(run);
        }
      }
    } catch (error) {
      // The database was unreachable for a moment: try again at the next poll.
      console.warn(`job poll failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    this.schedulePoll(claimedAny && this.running.size < this.concurrency ? 0 : this.pollMs);
  }

  private async claim(limit: number): Promise<ClaimedJob[]> {
    if (limit <= 0) return [];
    const now = this.clock.now();
    const rows = await executePrepared(this.db, "jobs_claim", claimDueJobs, {
      now: now.toISOString(),
      limit,
      workerId: this.workerId,
      lockedUntil: new Date(now.getTime() + this.leaseMs).toISOString(),
    });
    return rows.map((row) => ({
      id: row.id,
      kind: row.kind,
      payload: row.payload,
      tenantId: row.tenantId,
      dedupeKey: row.dedupeKey,
      attempt: row.attempts,
      maxAttempts: row.maxAttempts,
      runAt: row.runAt,
      createdAt: row.createdAt,
    }));
  }

  private async execute(job: ClaimedJob): Promise<void> {
    const handler = this.handlers[job.kind];
    try {
      if (!handler) throw new Error(`No handler for job kind ${job.kind}`);
      const outcome = await handler(job, this.context(this.clock.now()));
      const intervalMs = this.periodicInterval(job);
      if (outcome?.retryAt || intervalMs !== null) {
        const runAt = outcome?.retryAt ?? new Date(this.clock.now().getTime() + (intervalMs ?? 0));
        // Not a failure: the attempt is given back.
        await executePrepared(this.db, "jobs_reschedule", rescheduleJob, {
          id: job.id,
          workerId: this.workerId,
          runAt: runAt.toISOString(),
        });
      } else {
        await executePrepared(this.db, "jobs_finish", finishJob, { id: job.id, workerId: this.workerId });
      }
    } catch (error) {
      this.onError(job, error);
      const message = (error instanceof Error ? error.message : String(error)).slice(0, 2000);
      const now = this.clock.now();
      const exhausted = job.attempt >= job.maxAttempts;
      await this.db
        .update(jobs)
        .set({
          lockedBy: null,
          lockedUntil: null,
          lastError: message,
          ...(exhausted ? { failedAt: now } : { runAt: new Date(now.getTime() + backoffMs(job.attempt)) }),
        })
        .where(and(eq(jobs.id, job.id), eq(jobs.lockedBy, this.workerId)))
        .catch((writeError: unknown) => this.onError(job, writeError));
    }
  }

  private periodicInterval(job: ClaimedJob): number | null {
    if (job.dedupeKey !== `${PERIODIC_PREFIX}${job.kind}`) return null;
    const interval = job.payload.intervalMs;
    return typeof interval === "number" && interval > 0 ? interval : null;
  }
}

const placeholder = sql.placeholder;
/** Still ours: a job whose lease lapsed and was claimed again belongs to the other worker now. */
const heldByUs = and(eq(jobs.id, placeholder("id")), eq(jobs.lockedBy, placeholder("workerId")));

/*
 * The loop's statements, built and prepared once per database (executePrepared): a worker claims
 * at least four times a second, and drizzle need not rebuild the same SQL for each.
 */

/** Due jobs, oldest first, leased to this worker (`UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED)`). */
const claimDueJobs = (db: Queryable) => {
  const now = sql`${placeholder("now")}::timestamptz`;
  const due = db
    .select({ id: jobs.id })
    .from(jobs)
    .where(and(isNull(jobs.failedAt), lte(jobs.runAt, now), or(isNull(jobs.lockedUntil), lte(jobs.lockedUntil, now))))
    .orderBy(asc(jobs.runAt))
    .limit(placeholder("limit"))
    .for("update", { skipLocked: true });
  return db
    .update(jobs)
    .set({
      lockedBy: sql`${placeholder("workerId")}`,
      lockedUntil: sql`${placeholder("lockedUntil")}::timestamptz`,
      attempts: sql`${jobs.attempts} + 1`,
    })
    .where(inArray(jobs.id, due))
    .returning();
};

const finishJob = (db: Queryable) => db.delete(jobs).where(heldByUs);

const rescheduleJob = (db: Queryable) =>
  db
    .update(jobs)
    .set({
      runAt: sql`${placeholder("runAt")}::timestamptz`,
      lockedBy: null,
      lockedUntil: null,
      attempts: sql`greatest(${jobs.attempts} - 1, 0)`,
      lastError: null,
    })
    .where(heldByUs);

/** Queue depth, due backlog, the oldest due job's lateness and failed jobs, in one statement. */
export async function queueStats(db: Database, now: Date): Promise<QueueStats> {
  const at = timestamptz(now);
  const [row] = await db
    .select({
      depth: sql<number>`count(*) filter (where ${jobs.failedAt} is null)`.mapWith(Number),
      due: sql<number>`count(*) filter (where ${jobs.failedAt} is null and ${jobs.runAt} <= ${at})`.mapWith(Number),
      oldestDue: sql<string | null>`min(${jobs.runAt}) filter (where ${jobs.failedAt} is null and ${jobs.runAt} <= ${at})`,
      failed: sql<number>`count(*) filter (where ${jobs.failedAt} is not null)`.mapWith(Number),
    })
    .from(jobs);
  const oldest = row?.oldestDue ? new Date(row.oldestDue) : null;
  return {
    depth: row?.depth ?? 0,
    due: row?.due ?? 0,
    oldestAgeMs: oldest ? Math.max(0, now.getTime() - oldest.getTime()) : null,
    failed: row?.failed ?? 0,
  };
}
