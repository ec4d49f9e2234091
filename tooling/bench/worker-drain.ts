// The job worker's CPU per POST /v1/requests, alone: the real server (WORKER=off) takes BENCH_POSTS
// submissions while its `cli worker` process is stopped, then the worker works the outbox off (events
// dispatched, e-mails rendered and recorded) and its CPU time (from /proc, less its idle rate) is
// divided by the submissions. Cheaper and steadier than `pnpm bench` for work on the worker; the
// batches are full, as they are under sustained load.
//
//   pnpm --filter @approvalmatrix/bench bench:worker   (BENCH_POSTS, BENCH_DRAIN_ROUNDS; needs the built dist/)
import { type ChildProcess, spawn } from "node:child_process";
import autocannon from "autocannon";
import postgres from "postgres";
import { PURCHASE_ORDER, ROOT, benchEnv, cpuMs, createBenchDatabase, createBenchKey, startServer, step, stopServer } from "./servers";

const POSTS = Number(process.env.BENCH_POSTS ?? 4000);
const ROUNDS = Number(process.env.BENCH_DRAIN_ROUNDS ?? 3);
const PORT = Number(process.env.BENCH_PORT ?? 43_300 + Math.floor(Math.random() * 500));

async function backlog(sql: postgres.Sql): Promise<number> {
  const [row] = await sql<{ n: number }[]>`select
    (select count(*) from events where dispatched_at is null)::int
    + (select count(*) from messages where status = 'pending')::int as n`;
  return row?.n ?? 0;
}

function startWorker(env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  const profile = process.env.BENCH_PROFILE ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
  if (process.env.BENCH_HEAP_PROFILE) profile.push("--heap-prof", `--heap-prof-dir=${process.env.BENCH_HEAP_PROFILE}`);
  if (process.env.BENCH_TRACE_GC) profile.push("--trace-gc");
  const child = spawn(process.execPath, ["--max-semi-space-size=32", ...profile, "dist/cli.js", "worker"], {
    cwd: `${ROOT}apps/web`,
    env,
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    child.stdout.on("data", (chunk: Buffer) => {
      if (process.env.BENCH_TRACE_GC) process.stdout.write(chunk);
      if (/Job worker \S+ running/.test(chunk.toString())) resolve(child);
    });
    child.on("exit", (code) => reject(new Error(`the worker exited (${code})`)));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const db = await createBenchDatabase("apx_worker");
  const env = benchEnv(db.url, { WORKER: "off" });
  const server = await startServer(env, PORT);
  const sql = postgres(db.url, { max: 1, onnotice: () => {} });
  let worker: ChildProcess | undefined;
  try {
    const key = createBenchKey(env, "requests:write,requests:read");
    worker = await startWorker(env);
    const pid = worker.pid;
    // The idle rate (polls, periodic bookkeeping), subtracted from the drain's CPU.
    await sleep(3000);
    const idleStart = cpuMs(pid);
    await sleep(6000);
    const idlePerMs = (cpuMs(pid) - idleStart) / 6000;
    step(`worker idle: ${(idlePerMs * 1000).toFixed(1)} ms CPU per s`);
    const perPost: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      worker.kill("SIGSTOP");
      const result = await autocannon({
        url: server.url,
        connections: 10,
        amount: POSTS,
        requests: [
          {
            method: "POST",
            path: "/v1/requests",
            headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
            body: JSON.stringify(PURCHASE_ORDER),
          },
        ],
      });
      if (result.non2xx > 0 || result.errors > 0) throw new Error(`${result.non2xx} POSTs failed (${result.errors} errors)`);
      const [counts] = await sql<{ events: number; messages: number }[]>`select
        (select count(*) from events where dispatched_at is null)::int as events,
        (select count(*) from messages where status = 'pending')::int as messages`;
      const before = cpuMs(pid);
      const started = Date.now();
      worker.kill("SIGCONT");
      while ((await backlog(sql)) > 0) await sleep(50);
      const elapsed = Date.now() - started;
      const us = ((cpuMs(pid) - before - idlePerMs * elapsed) * 1000) / POSTS;
      perPost.push(us);
      step(
        `round ${round + 1}: ${POSTS} POSTs (${counts?.events} events, ${counts?.messages} messages) drained in ${(elapsed / 1000).toFixed(1)} s: worker CPU ${us.toFixed(0)} µs per POST`,
      );
    }
    perPost.sort((a, b) => a - b);
    step(`median worker CPU per POST: ${perPost[Math.floor(perPost.length / 2)]?.toFixed(0)} µs`);
  } finally {
    if (worker && worker.exitCode === null) {
      worker.kill("SIGCONT");
      const exited = new Promise((r) => worker?.once("exit", r));
      worker.kill("SIGTERM");
      await exited;
    }
    await sql.end();
    await stopServer(server);
    await db.drop();
  }
}

await main();
