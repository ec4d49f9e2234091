// Load benchmark: POST /v1/requests and GET /v1/requests/{id} against the real server (its own
// process, on PostgreSQL) and, in the same run, against a minimal plain-Node handler doing the same
// SQL (minimal-server.ts). autocannon drives both from this, a second process.
// Prints requests/s, p50/p99 latency, the server's CPU time per request (from /proc: steadier than
// throughput on a shared machine) and the ratio, plus what auth + rate limiting cost inside the
// server (from its Server-Timing header), and writes the table to results/local/load-latest.md
// (results/load-latest.md, tracked, with BENCH_SAVE=1). A second table: p99 at BENCH_HIGH_CONNECTIONS
// (50) connections against the minimal handler's in the same run. The real server runs compiled
// (apps/web/dist/main.js: `pnpm bench` builds it first).
// The two servers take turns (BENCH_ROUNDS rounds each), so a noisy neighbour hits both alike.
// The real server's job worker (events fan-out, webhook deliveries, e-mails) runs as its own process
// (`cli worker`, the production split) so that it can be paused while the minimal handler runs: the
// two share the database, and the worker would otherwise deliver the minimal handler's outbox rows
// on the minimal handler's time. Between runs the outbox is drained, so no run pays for an earlier
// one's backlog; during the real server's runs the worker runs and its CPU counts in CPU µs/req.
//
//   pnpm bench        (BENCH_DATABASE_URL, BENCH_SECONDS, BENCH_ROUNDS, BENCH_CONNECTIONS to tune)
import { type ChildProcess, spawn } from "node:child_process";
import { appendFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cpus } from "node:os";
import { must, randomBase62 } from "@approvalmatrix/core";
import autocannon from "autocannon";
import { type HttpsReceiver, startHttpsReceiver } from "./https-receiver";
import { profileTable } from "./profile-summary";
import { ROOT, cpuMs, createBenchKey, step } from "./servers";
import { resultsFile } from "./results-file";
import postgres from "postgres";

const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const POOL = process.env.BENCH_POOL ?? "10";
const BRIDGE_PORT = 43_117;
/** The high-concurrency case: p99 at this many connections, against the minimal handler's in the same run. */
const HIGH_CONNECTIONS = Number(process.env.BENCH_HIGH_CONNECTIONS ?? 50);

const dbName = `apx_bench_${Date.now()}`;
const databaseUrl = Object.assign(new URL(ADMIN_URL), { pathname: `/${dbName}` }).toString();
const secret = randomBase62(48);
const env: NodeJS.ProcessEnv = {
  ...process.env,
  DATABASE_URL: databaseUrl,
  API_KEY_HASH_SECRET: secret,
  RECEIPT_SIGNING_SECRET: randomBase62(48),
  NODE_ENV: "production",
  // The bench drives the demo tenant; production on PostgreSQL seeds it only when asked.
  SEED_DEMO: "true",
  DATABASE_POOL_SIZE: POOL,
  POOL,
  // The "one subscribed endpoint" case delivers to an HTTPS receiver on loopback (its own process,
  // https-receiver.ts), with a self-signed certificate.
  WEBHOOK_ALLOW_LOOPBACK: "true",
  NODE_TLS_REJECT_UNAUTHORIZED: "0",
};
delete (env as Record<string, string | undefined>).REDIS_URL;
if (process.env.REDIS_URL && process.env.BENCH_REDIS === "1") env.REDIS_URL = process.env.REDIS_URL;

/**
 * V8 flags of both servers (and the worker): the production start's young-generation size (README,
 * Running in production), given to the minimal handler too so that the comparison stays even.
 */
const NODE_TUNING = ["--max-semi-space-size=32"];

/** BENCH_PROFILE=dir writes V8 CPU profiles of both servers there (the minimal one's in minimal/). */
const PROFILE_DIR = process.env.BENCH_PROFILE;
/** BENCH_ONLY=GET or POST runs one endpoint's pair of runs (handy with BENCH_PROFILE). */
const ONLY = process.env.BENCH_ONLY?.toUpperCase();
/** BENCH_PAUSE_WORKER=1 pauses the job worker during the real server's runs too (see realRun). */
const PAUSE_WORKER = process.env.BENCH_PAUSE_WORKER === "1";

function startProcess(
  name: string,
  args: string[],
  cwd: string,
  extra: Record<string, string>,
  ready: RegExp,
  nodeFlags: string[] = [],
): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    // TypeScript (the minimal handler) through tsx; the real server is the compiled dist/main.js, as in production.
    const loader = args[0]?.endsWith(".ts") ? ["--import", "tsx"] : [];
    const child = spawn(process.execPath, [...NODE_TUNING, ...nodeFlags, ...loader, ...args], {
      cwd,
      env: { ...env, ...extra },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    const onData = (chunk: Buffer) => {
      // BENCH_DEBUG=1 shows what the servers print (a failing handler's errors).
      if (process.env.BENCH_DEBUG) process.stderr.write(`[${name}] ${chunk.toString()}`);
      // Only the last few KB are kept (for an exit message): a server logging a line per request
      // must not make this process, which shares the cores, build an ever longer string.
      output = (output + chunk.toString()).slice(-8192);
      if (ready.test(output)) resolve(Object.assign(child, { readyOutput: output }));
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("exit", (code) => reject(new Error(`${name} exited (${code}):\n${output}`)));
  });
}

/** SIGTERM, then wait for the exit (a CPU profile is written on the way out); SIGKILL after 10 s. */
function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill("SIGKILL"), 10_000);
    child.once("exit", () => {
      clearTimeout(force);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  total: number;
  /** CPU time per request of the processes measured (the real server's includes its worker), in microseconds. */
  cpuUs: number;
  /** The server process's own share of it (the first pid): what its CPU profile covers. */
  serverCpuUs: number;
}

async function load(
  url: string,
  method: "GET" | "POST",
  key: string,
  ids: string[],
  pids: (number | undefined)[],
  connections = CONNECTIONS,
): Promise<LoadResult> {
  const cpuOf = (): number => pids.reduce<number>((sum, pid) => sum + cpuMs(pid), 0);
  const cpuBefore = cpuOf();
  const serverBefore = cpuMs(pids[0]);
  const body = JSON.stringify({ submitterRef: "EMP-1042", requestType: "purchase_order", title: "Bench order", amount: 4500 });
  const result = await autocannon({
    url,
    connections,
    duration: SECONDS,
    requests: [
      method === "POST"
        ? { method, path: "/v1/requests", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body }
        : {
            method,
            headers: { authorization: `Bearer ${key}` },
            setupRequest: (req) => ({ ...req, path: `/v1/requests/${ids[Math.floor(Math.random() * ids.length)]}` }),
          },
    ],
  });
  const cpuUs = ((cpuOf() - cpuBefore) * 1000) / result.requests.total;
  const serverCpuUs = ((cpuMs(pids[0]) - serverBefore) * 1000) / result.requests.total;
  const bad = result.non2xx + result.errors + result.timeouts;
  if (bad > 0) throw new Error(`${method} ${url}: ${bad} failed responses of ${result.requests.total}`);
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    total: result.requests.total,
    cpuUs,
    serverCpuUs,
  };
}

/** Rounds of one server folded into one row: throughput and CPU over all of them, median latencies. */
function combine(runs: LoadResult[]): LoadResult {
  const median = (xs: number[]) => must([...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)], "a round");
  const total = runs.reduce((sum, r) => sum + r.total, 0);
  return {
    rps: runs.reduce((sum, r) => sum + r.rps, 0) / runs.length,
    p50: median(runs.map((r) => r.p50)),
    p99: median(runs.map((r) => r.p99)),
    total,
    cpuUs: runs.reduce((sum, r) => sum + r.cpuUs * r.total, 0) / total,
    serverCpuUs: runs.reduce((sum, r) => sum + r.serverCpuUs * r.total, 0) / total,
  };
}

/** What the job worker still has to do: undispatched events, pending deliveries and e-mails. */
async function backlog(sql: postgres.Sql): Promise<number> {
  const [row] = await sql<{ n: number }[]>`select
    (select count(*) from events where dispatched_at is null)::int
    + (select count(*) from webhook_deliveries where status = 'pending')::int
    + (select count(*) from messages where status = 'pending')::int as n`;
  return row?.n ?? 0;
}

/** Waits until the worker has worked off the outbox (at most 5 minutes), saying how much there was. */
async function drain(sql: postgres.Sql): Promise<void> {
  const started = Date.now();
  const initial = await backlog(sql);
  if (initial === 0) return;
  let left = initial;
  while (left > 0) {
    if (Date.now() - started > 300_000) throw new Error(`the job worker did not drain its backlog (${left} left)`);
    await new Promise((resolve) => setTimeout(resolve, 250));
    left = await backlog(sql);
  }
  step(`  the worker drained a backlog of ${initial} outbox rows in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/** Runs `fn` with `child` stopped (SIGSTOP), then lets it go on (SIGCONT). */
async function paused<T>(child: ChildProcess, fn: () => Promise<T>): Promise<T> {
  child.kill("SIGSTOP");
  try {
    return await fn();
  } finally {
    child.kill("SIGCONT");
  }
}

function percentile(sorted: number[], p: number): number {
  return must(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))], "a sample");
}

async function main() {
  // Set when the run completed (past the finally below only then): what the profile table needs.
  let profiled: { out: string; realUs: number; minimalUs: number };
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
  step(`creating throwaway database ${dbName}`);
  await admin.unsafe(`create database "${dbName}"`);
  const children: ChildProcess[] = [];
  try {
    step("starting the real server (migrates and seeds the demo tenant)");
    const serverProcess = await startProcess(
      "server",
      ["dist/main.js"],
      `${ROOT}apps/web`,
      { PORT: String(BRIDGE_PORT), HOST: "127.0.0.1", WORKER: "off" },
      /ApprovalMatrix is running/,
      PROFILE_DIR ? ["--cpu-prof", `--cpu-prof-dir=${PROFILE_DIR}`] : [],
    );
    children.push(serverProcess);
    step("starting the real server's job worker (its own process)");
    const workerProcess = await startProcess(
      "worker",
      ["dist/cli.js", "worker"],
      `${ROOT}apps/web`,
      {},
      /Job worker \S+ running/,
      PROFILE_DIR ? ["--cpu-prof", `--cpu-prof-dir=${PROFILE_DIR}/worker`] : [],
    );
    children.push(workerProcess);
    const realPids = [serverProcess.pid, workerProcess.pid];
    // The bench's one connection to its database: ids to request, the outbox's backlog.
    const outbox = postgres(databaseUrl, { max: 1, onnotice: () => {} });
    step("creating a bench key with a high rate limit through the CLI");
    const key = createBenchKey(env, "requests:write,requests:read,webhooks:write");
    step("starting the minimal handler");
    const minimalProcess = await startProcess(
      "minimal",
      ["minimal-server.ts"],
      `${ROOT}tooling/bench`,
      { PORT: "0" },
      /listening \d+/,
      PROFILE_DIR ? ["--cpu-prof", `--cpu-prof-dir=${PROFILE_DIR}/minimal`] : [],
    );
    children.push(minimalProcess);

    // BENCH_PAUSE_WORKER=1: the hot path alone, its outbox worked off after each run (a diagnostic:
    // how much of a gap is the background work sharing the two cores, not the request itself).
    const realRun = <T>(run: () => Promise<T>) => (PAUSE_WORKER ? paused(workerProcess, run) : run());
    const bridge = `http://127.0.0.1:${BRIDGE_PORT}`;
    const minimal = `http://127.0.0.1:${must((minimalProcess as ChildProcess & { readyOutput: string }).readyOutput.match(/listening (\d+)/)?.[1], "the minimal server's port")}`;
    step("warming up both: POST then GET, 3 s each (the JIT compiles both paths before anything is measured)");
    for (const url of [bridge, minimal])
      await autocannon({
        url,
        connections: 4,
        duration: 3,
        requests: [
          {
            method: "POST",
            path: "/v1/requests",
            headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
            body: JSON.stringify({ submitterRef: "EMP-1042", requestType: "purchase_order", title: "warm", amount: 10 }),
          },
        ],
      });
    const warmIds = (await outbox`select id from requests limit 500`).map((r) => r.id as string);
    for (const url of [bridge, minimal])
      await autocannon({
        url,
        connections: 4,
        duration: 3,
        requests: [
          {
            method: "GET",
            headers: { authorization: `Bearer ${key}` },
            setupRequest: (req) => ({ ...req, path: `/v1/requests/${warmIds[Math.floor(Math.random() * warmIds.length)]}` }),
          },
        ],
      });

    const rows: { name: string; bridge: LoadResult; minimal: LoadResult; target: number }[] = [];
    const endpoints = [
      ["create  POST /v1/requests", "POST", 0.7, false],
      ["status  GET /v1/requests/{id}", "GET", 0.8, false],
      // The outbox on the hot path, with its fan-out and deliveries running in the same process.
      ["create  POST /v1/requests, one subscribed webhook endpoint", "POST", 0.7, true],
    ] as const;
    let receiver: HttpsReceiver | null = null;
    for (const [name, method, target, subscribe] of endpoints.filter(([, m]) => !ONLY || m === ONLY)) {
      if (subscribe && !receiver) {
        receiver = await startHttpsReceiver();
        const res = await fetch(`${bridge}/v1/webhook-endpoints`, {
          method: "POST",
          headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
          body: JSON.stringify({ url: receiver.url }),
        });
        if (res.status !== 201) throw new Error(`creating the webhook endpoint: ${res.status} ${await res.text()}`);
      }
      const ids = method === "GET" ? (await outbox`select id from requests order by random() limit 2000`).map((r) => r.id as string) : [];
      const b: LoadResult[] = [];
      const m: LoadResult[] = [];
      for (let round = 1; round <= ROUNDS; round++) {
        step(`${name}: real server, ${SECONDS} s × ${CONNECTIONS} connections (round ${round}/${ROUNDS})`);
        await drain(outbox);
        b.push(await realRun(() => load(bridge, method, key, ids, realPids)));
        await drain(outbox);
        step(`${name}: minimal handler, ${SECONDS} s × ${CONNECTIONS} connections (round ${round}/${ROUNDS})`);
        m.push(await paused(workerProcess, () => load(minimal, method, key, ids, [minimalProcess.pid])));
        step(`  ${((must(b.at(-1)).rps / must(m.at(-1)).rps) * 100).toFixed(0)} % of the minimal handler's throughput this round`);
      }
      rows.push({ name, bridge: combine(b), minimal: combine(m), target });
    }

    const high: { name: string; bridge: LoadResult; minimal: LoadResult }[] = [];
    for (const [name, method] of endpoints.filter(([, m]) => !ONLY || m === ONLY)) {
      const ids = method === "GET" ? (await outbox`select id from requests order by random() limit 2000`).map((r) => r.id as string) : [];
      step(`${name}: both servers, ${SECONDS} s × ${HIGH_CONNECTIONS} connections`);
      await drain(outbox);
      const bridgeRun = await realRun(() => load(bridge, method, key, ids, realPids, HIGH_CONNECTIONS));
      await drain(outbox);
      const minimalRun = await paused(workerProcess, () => load(minimal, method, key, ids, [minimalProcess.pid], HIGH_CONNECTIONS));
      high.push({ name, bridge: bridgeRun, minimal: minimalRun });
    }

    await drain(outbox);
    // Before the pool closes: the request the Server-Timing sample reads.
    const [sample] = await outbox`select id from requests limit 1`;
    await outbox.end();
    // Open until now: the 50-connection runs have the endpoint subscribed too, and draining waits for its deliveries.
    if (receiver) {
      step(`the receiver got ${await receiver.distinct()} distinct events`);
      await receiver.close();
    }
    step("sampling Server-Timing auth+rate limit over 2000 sequential GETs");
    const durations: number[] = [];
    for (let i = 0; i < 2000; i++) {
      const res = await fetch(`${bridge}/v1/requests/${must(sample).id}`, { headers: { authorization: `Bearer ${key}` } });
      await res.arrayBuffer();
      const dur = /dur=([\d.]+)/.exec(res.headers.get("server-timing") ?? "")?.[1];
      if (dur) durations.push(Number(dur));
    }
    durations.sort((a, b) => a - b);
    const authP50 = percentile(durations, 50);
    const authP99 = percentile(durations, 99);

    const store = env.REDIS_URL ? "Redis" : "PostgreSQL";
    const lines = [
      `# Load benchmark — ${new Date().toISOString()}`,
      "",
      `PostgreSQL ${dbName.replace(/_\d+$/, "")} on 127.0.0.1, pool ${POOL}, rate-limit store ${store}; autocannon ${CONNECTIONS} connections, ${ROUNDS} round(s) of ${SECONDS} s per server, taking turns, from a second process; Node ${process.version}, ${cpus().length} cores. CPU: user + system time per request of the server process (for the real server, plus its job-worker process, which runs only during the real server's runs; the outbox is drained between runs).`,
      "",
      "| endpoint | real server req/s | p50 ms | p99 ms | CPU µs/req | minimal req/s | p50 ms | p99 ms | CPU µs/req | ratio | target |",
      "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
      ...rows.map(
        (r) =>
          `| ${r.name} | ${r.bridge.rps.toFixed(0)} | ${r.bridge.p50} | ${r.bridge.p99} | ${r.bridge.cpuUs.toFixed(0)} | ${r.minimal.rps.toFixed(0)} | ${r.minimal.p50} | ${r.minimal.p99} | ${r.minimal.cpuUs.toFixed(0)} | ${((r.bridge.rps / r.minimal.rps) * 100).toFixed(0)} % | ≥ ${r.target * 100} % ${r.bridge.rps / r.minimal.rps >= r.target ? "✔" : "✘"} |`,
      ),
      "",
      `At ${HIGH_CONNECTIONS} connections (one run each, same database):`,
      "",
      "| endpoint | real req/s | real p99 ms | minimal req/s | minimal p99 ms | p99 ratio | target |",
      "|---|---:|---:|---:|---:|---:|---:|",
      ...high.map(
        (r) =>
          `| ${r.name} | ${r.bridge.rps.toFixed(0)} | ${r.bridge.p99} | ${r.minimal.rps.toFixed(0)} | ${r.minimal.p99} | ${(r.bridge.p99 / r.minimal.p99).toFixed(2)}× | ≤ 1.25× ${r.bridge.p99 <= r.minimal.p99 * 1.25 ? "✔" : "✘"} |`,
      ),
      "",
      `Authentication + rate limiting inside the real server (Server-Timing, ${durations.length} sequential calls): p50 ${authP50.toFixed(3)} ms, p99 ${authP99.toFixed(3)} ms (target p50 < 0.3 ms ${authP50 < 0.3 ? "✔" : "✘"}).`,
      "",
    ];
    console.log(`\n${lines.join("\n")}`);
    const out = resultsFile("load");
    writeFileSync(out, lines.join("\n"));
    console.log(`Written to ${out}`);
    // The server's own CPU, not its worker's: the layer table reads the server's profile only.
    const perRequest = (pick: (r: (typeof rows)[number]) => LoadResult) =>
      rows.reduce((sum, r) => sum + pick(r).serverCpuUs * pick(r).total, 0) / rows.reduce((sum, r) => sum + pick(r).total, 0);
    profiled = { out, realUs: perRequest((r) => r.bridge), minimalUs: perRequest((r) => r.minimal) };
  } finally {
    await Promise.all(children.map(stopProcess));
    await admin.unsafe(`drop database if exists "${dbName}" with (force)`);
    await admin.end();
    step("dropped the throwaway database");
  }
  // The servers wrote their CPU profiles on the way out: where the difference goes, by layer.
  if (PROFILE_DIR) {
    const table = profileTable(largestProfile(PROFILE_DIR), largestProfile(`${PROFILE_DIR}/minimal`), {
      real: profiled.realUs,
      minimal: profiled.minimalUs,
    });
    const section = [
      "",
      "Where the CPU goes, by layer (V8 CPU profiles of both servers over the whole run, self time charged to the layer",
      "of its code; µs per request = share × each server's CPU µs per request over all its runs; `profile-summary.ts`):",
      "",
      table,
      "",
    ].join("\n");
    console.log(section);
    appendFileSync(profiled.out, section);
  }
}

/** The main thread's profile in `dir`: the largest .cpuprofile (a loader thread writes a small one too). */
function largestProfile(dir: string): string {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".cpuprofile"))
    .map((f) => ({ path: join(dir, f), size: statSync(join(dir, f)).size }))
    .sort((a, b) => b.size - a.size);
  return must(files[0], `a CPU profile in ${dir}`).path;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
