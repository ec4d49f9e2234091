import { ManualClock } from "@approvalmatrix/core";
import { type TestDatabase, createTestDatabase } from "@approvalmatrix/db/testing";
import { jobs } from "@approvalmatrix/db";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { cancelJobs, enqueueJob, enqueueJobs } from "./queue";
import { type JobHandler, Worker, backoffMs } from "./worker";

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database.destroy();
});
beforeEach(async () => {
  await database.db.delete(jobs);
});

function worker(handlers: Record<string, JobHandler>, clock: ManualClock, options: { leaseMs?: number; workerId?: string } = {}) {
  return new Worker({ db: database.db, handlers, clock, onError: () => {}, ...options });
}

describe("the job worker", () => {
  it("runs a due job once and deletes it; a later job waits for its time", async () => {
    const clock = new ManualClock();
    const seen: string[] = [];
    const w = worker({ hello: (job) => Promise.resolve(void seen.push(String(job.payload.name))) }, clock);
    await enqueueJob(database.db, { kind: "hello", payload: { name: "now" }, runAt: clock.now() });
    await enqueueJob(database.db, { kind: "hello", payload: { name: "later" }, runAt: new Date(clock.now().getTime() + 60_000) });
    expect(await w.runDue()).toBe(1);
    expect(seen).toEqual(["now"]);
    expect((await w.stats()).depth).toBe(1);
    clock.advance(60_000);
    expect(await w.runDue()).toBe(1);
    expect(seen).toEqual(["now", "later"]);
    expect(await database.db.select().from(jobs)).toEqual([]);
  });

  it("keeps one live job per dedupe key", async () => {
    const clock = new ManualClock();
    await enqueueJobs(database.db, [
      { kind: "k", dedupeKey: "deadline:req_1", runAt: clock.now() },
      { kind: "k", dedupeKey: "deadline:req_2", runAt: clock.now() },
    ]);
    await enqueueJob(database.db, { kind: "k", dedupeKey: "deadline:req_1", runAt: clock.now() });
    expect(await database.db.select().from(jobs)).toHaveLength(2);
    expect(await cancelJobs(database.db, { dedupeKeyPrefix: "deadline:req_1" })).toBe(1);
    expect(await database.db.select().from(jobs)).toHaveLength(1);
  });

  it("commits a job only with its transaction", async () => {
    await database.db
      .transaction(async (tx) => {
        await enqueueJob(tx, { kind: "k" });
        throw new Error("roll back");
      })
      .catch(() => {});
    expect(await database.db.select().from(jobs)).toEqual([]);
  });

  it("retries a failing job with backoff, then keeps it as failed", async () => {
    const clock = new ManualClock();
    let runs = 0;
    const w = worker(
      {
        flaky: () => {
          runs++;
          return Promise.reject(new Error(`boom ${runs}`));
        },
      },
      clock,
    );
    await enqueueJob(database.db, { kind: "flaky", runAt: clock.now(), maxAttempts: 3 });
    expect(await w.runDue()).toBe(1);
    // Not due again until its backoff passes.
    expect(await w.runDue()).toBe(0);
    clock.advance(backoffMs(1, () => 1) + 1);
    expect(await w.runDue()).toBe(1);
    clock.advance(backoffMs(2, () => 1) + 1);
    expect(await w.runDue()).toBe(1);
    clock.advance(60 * 60_000);
    expect(await w.runDue()).toBe(0);
    expect(runs).toBe(3);
    const [row] = await database.db.select().from(jobs);
    expect(row?.failedAt).not.toBeNull();
    expect(row?.lastError).toBe("boom 3");
    expect(await w.stats()).toMatchObject({ depth: 0, failed: 1 });
  });

  it("reschedules a job that asks to run again, without spending an attempt", async () => {
    const clock = new ManualClock();
    let runs = 0;
    const w = worker(
      { poll: (_job, ctx) => Promise.resolve(++runs < 5 ? { retryAt: new Date(ctx.now.getTime() + 1000) } : undefined) },
      clock,
    );
    await enqueueJob(database.db, { kind: "poll", runAt: clock.now(), maxAttempts: 1 });
    for (let i = 0; i < 5; i++) {
      expect(await w.runDue()).toBe(1);
      clock.advance(1000);
    }
    expect(runs).toBe(5);
    expect(await database.db.select().from(jobs)).toEqual([]);
  });

  it("runs a job again elsewhere when its worker died holding the lease", async () => {
    const clock = new ManualClock();
    let release: () => void = () => {};
    const runsBy: string[] = [];
    const stuck = worker(
      {
        work: async () => {
          runsBy.push("stuck");
          await new Promise<void>((resolve) => (release = resolve));
        },
      },
      clock,
      { leaseMs: 30_000, workerId: "stuck" },
    );
    const healthy = worker({ work: () => Promise.resolve(void runsBy.push("healthy")) }, clock, { leaseMs: 30_000, workerId: "healthy" });
    await enqueueJob(database.db, { kind: "work", runAt: clock.now() });
    const stuckRun = stuck.runDue();
    // Wait until the stuck worker holds the claim.
    while (runsBy.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(await healthy.runDue()).toBe(0);
    clock.advance(30_001);
    expect(await healthy.runDue()).toBe(1);
    release();
    await stuckRun;
    expect(runsBy).toEqual(["stuck", "healthy"]);
    expect(await database.db.select().from(jobs)).toEqual([]);
  });

  it("shares one queue between workers: each job runs exactly once", async () => {
    const clock = new ManualClock();
    const counts = new Map<string, number>();
    const handler: JobHandler = async (job) => {
      counts.set(String(job.payload.n), (counts.get(String(job.payload.n)) ?? 0) + 1);
      await new Promise((resolve) => setTimeout(resolve, 1));
    };
    await enqueueJobs(
      database.db,
      Array.from({ length: 120 }, (_, n) => ({ kind: "count", payload: { n }, runAt: clock.now() })),
    );
    const workers = ["a", "b", "c"].map((id) => worker({ count: handler }, clock, { workerId: id }));
    const ran = await Promise.all(workers.map((w) => w.runDue()));
    expect(ran.reduce((a, b) => a + b, 0)).toBe(120);
    expect(counts.size).toBe(120);
    expect([...counts.values()].every((c) => c === 1)).toBe(true);
  });

  it("runs a periodic job once per interval across instances", async () => {
    const clock = new ManualClock();
    let runs = 0;
    const make = () => worker({ tick: () => Promise.resolve(void runs++) }, clock).every("tick", 60_000);
    const [a, b] = [make(), make()];
    await Promise.all([a.runDue(), b.runDue()]);
    expect(runs).toBe(1);
    expect(await database.db.select().from(jobs)).toHaveLength(1);
    clock.advance(30_000);
    await Promise.all([a.runDue(), b.runDue()]);
    expect(runs).toBe(1);
    clock.advance(30_000);
    await Promise.all([a.runDue(), b.runDue()]);
    expect(runs).toBe(2);
  });

  it("polls on its own once started, and stops", async () => {
    const seen: number[] = [];
    const w = new Worker({
      db: database.db,
      handlers: { bg: (job) => Promise.resolve(void seen.push(Number(job.payload.n))) },
      pollMs: 20,
    });
    await w.start();
    await enqueueJobs(
      database.db,
      [1, 2, 3].map((n) => ({ kind: "bg", payload: { n } })),
    );
    for (let i = 0; i < 200 && seen.length < 3; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    await w.stop(1000);
    expect(seen.sort()).toEqual([1, 2, 3]);
  });
  it("runs a nudged periodic job at once, one run for a burst, and one more for a nudge during a run", async () => {
    const clock = new ManualClock();
    let runs = 0;
    let release = () => {};
    const w = new Worker({
      db: database.db,
      clock,
      onError: () => {},
      pollMs: 60_000,
      handlers: {
        tick: () => {
          runs++;
          // The first nudged run (runs === 2) is held open until the test lets it finish.
          return runs === 2 ? new Promise<void>((resolve) => (release = resolve)) : Promise.resolve();
        },
      },
    }).every("tick", 3_600_000);
    const until = async (ok: () => boolean) => {
      for (let i = 0; i < 300 && !ok(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
    };
    w.nudge("tick");
    expect(runs).toBe(0); // not started: nothing
    await w.start();
    await until(() => runs === 1); // the scheduled run, at start
    for (let i = 0; i < 5; i++) w.nudge("tick");
    await until(() => runs === 2);
    expect(runs).toBe(2); // a burst of nudges: one run, not five hours later
    w.nudge("tick"); // during the held run: one more run must follow it
    w.nudge("tick");
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(runs).toBe(2);
    release();
    await until(() => runs === 3);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(runs).toBe(3);
    await w.stop(1000);
    w.nudge("tick");
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(runs).toBe(3); // stopped: nothing
  });

  it("runs what a job nudges before runDue returns, with the worker not started", async () => {
    const clock = new ManualClock();
    const seen: string[] = [];
    const w = worker(
      {
        produce: (_job, ctx) => {
          seen.push("produce");
          ctx.nudge("consume");
          return Promise.resolve();
        },
        consume: () => Promise.resolve(void seen.push("consume")),
      },
      clock,
    )
      .every("produce", 60_000)
      .every("consume", 60_000);
    // Both periodic jobs run at once first (consume finds nothing yet); the nudge runs consume again after.
    expect(await w.runDue()).toBe(3);
    expect(seen.filter((s) => s === "consume")).toHaveLength(2);
    expect(seen.at(-1)).toBe("consume");
    // Nothing is due and nothing was nudged: nothing runs.
    expect(await w.runDue()).toBe(0);
    expect(seen).toHaveLength(3);
  });
});
