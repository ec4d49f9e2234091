// Webhook benchmark: the real server (its own process, on PostgreSQL, in production mode, its
// in-process worker on) drains BENCH_EVENTS (10 000) queued events to an HTTPS receiver on
// loopback, then delivers the events of live POST /v1/requests calls. Prints events/s and the
// p50/p99 delay from the change (the event's createdAt) to the receiver, and writes the table to
// results/local/webhooks-latest.md (results/webhooks-latest.md with BENCH_SAVE=1).
//
//   pnpm bench:webhooks   (BENCH_DATABASE_URL, BENCH_EVENTS, BENCH_SECONDS, BENCH_WORKER_CONCURRENCY to tune; BENCH_PROFILE=dir)
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { fileURLToPath } from "node:url";
import { must, randomBase62 } from "@approvalmatrix/core";
import postgres from "postgres";
import { type Arrival, percentile, startHttpsReceiver } from "./https-receiver";
import { resultsFile } from "./results-file";
import { cpuMs } from "./servers";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const EVENTS = Number(process.env.BENCH_EVENTS ?? 10_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONCURRENCY = process.env.BENCH_WORKER_CONCURRENCY ?? "16";
const PORT = 43_127;

const step = (message: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${message}`);
const dbName = `apx_bench_hooks_${Date.now()}`;
const databaseUrl = Object.assign(new URL(ADMIN_URL), { pathname: `/${dbName}` }).toString();
const env: NodeJS.ProcessEnv = {
  ...process.env,
  DATABASE_URL: databaseUrl,
  API_KEY_HASH_SECRET: randomBase62(48),
  RECEIPT_SIGNING_SECRET: randomBase62(48),
  NODE_ENV: "production",
  SEED_DEMO: "true",
  WORKER: "on",
  WORKER_CONCURRENCY: CONCURRENCY,
  // The receiver is its own process (https-receiver.ts), on loopback, with a self-signed certificate.
  WEBHOOK_ALLOW_LOOPBACK: "true",
  NODE_TLS_REJECT_UNAUTHORIZED: "0",
  PORT: String(PORT),
  HOST: "127.0.0.1",
};
delete (env as Record<string, string | undefined>).REDIS_URL;

function startServer(): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    // BENCH_PROFILE=dir writes the server's V8 CPU profile there (on its exit).
    const profile = process.env.BENCH_PROFILE ? ["--cpu-prof", "--cpu-prof-dir", process.env.BENCH_PROFILE] : [];
    const child = spawn(process.execPath, [...profile, "--import", "tsx", "src/main.ts"], {
      cwd: `${ROOT}apps/web`,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (/ApprovalMatrix is running/.test(output)) resolve(child);
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("exit", (code) => reject(new Error(`server exited (${code}):\n${output}`)));
  });
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) return false;
    // Arrival times are stamped by the receiver: how often this asks does not change them.
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return true;
}

function delays(arrivals: Arrival[]): { p50: number; p99: number } {
  const sorted = arrivals.map((a) => a.receivedAt - a.createdAt).sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
}

async function main() {
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
  step(`creating throwaway database ${dbName}`);
  await admin.unsafe(`create database "${dbName}"`);
  const receiver = await startHttpsReceiver();
  let server: ChildProcess | null = null;
  const db = postgres(databaseUrl, { max: 2, onnotice: () => {} });
  try {
    step("starting the real server (production mode, worker on)");
    server = await startServer();
    const cli = spawnSync(
      process.execPath,
      [
        "--import",
        "tsx",
        "src/cli.ts",
        "keys",
        "create",
        "--tenant",
        "acme",
        "--name",
        "bench",
        "--scopes",
        "requests:write,webhooks:write",
        "--rate-limit",
        "1000000",
        "--json",
      ],
      { cwd: `${ROOT}apps/web`, env, encoding: "utf8" },
    );
    if (cli.status !== 0) throw new Error(cli.stderr);
    const key = (JSON.parse(cli.stdout) as { key: string }).key;
    const base = `http://127.0.0.1:${PORT}`;
    const headers = { authorization: `Bearer ${key}`, "content-type": "application/json" };
    const created = await fetch(`${base}/v1/webhook-endpoints`, { method: "POST", headers, body: JSON.stringify({ url: receiver.url }) });
    if (created.status !== 201) throw new Error(`endpoint: ${created.status} ${await created.text()}`);

    step(`queueing ${EVENTS} events in the outbox at once`);
    const [tenant] = await db`select id from tenants where slug = 'acme'`;
    const queuedAt = Date.now();
    // The server is otherwise idle while it drains: its CPU over the drain is what delivering costs.
    const cpuBefore = cpuMs(server.pid);
    await db`
      insert into events (id, tenant_id, type, api_version, data, created_at)
      select 'evt_bench' || i, ${must(tenant).id as string}, 'approval_request.created', '2026-11-01',
             jsonb_build_object('requestId', 'req_bench' || i, 'status', 'pending'), clock_timestamp()
      from generate_series(1, ${EVENTS}) as i`;
    const drained = await waitFor(async () => (await receiver.distinct()) >= EVENTS, 15 * 60_000);
    const drainCpuUs = ((cpuMs(server.pid) - cpuBefore) * 1000) / EVENTS;
    const bulk = (await receiver.arrivals()).filter((a) => a.webhookId.startsWith("evt_bench"));
    const drainMs = Math.max(...bulk.map((a) => a.receivedAt)) - queuedAt;
    const bulkDelay = delays(bulk);
    step(`drained ${await receiver.distinct()} of ${EVENTS} in ${(drainMs / 1000).toFixed(1)} s${drained ? "" : " (timed out)"}`);

    step(`live: POST /v1/requests for ${SECONDS} s, one at a time`);
    const liveStart = Date.now();
    let posts = 0;
    while (Date.now() - liveStart < SECONDS * 1000) {
      const res = await fetch(`${base}/v1/requests`, {
        method: "POST",
        headers,
        body: JSON.stringify({ submitterRef: "EMP-1042", requestType: "purchase_order", title: `live ${posts}`, amount: 10 }),
      });
      await res.arrayBuffer();
      posts++;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // Each POST emits two events (created, stage_opened).
    await waitFor(async () => (await receiver.distinct()) >= EVENTS + posts * 2, 60_000);
    const arrivals = await receiver.arrivals();
    const live = arrivals.filter((a) => !a.webhookId.startsWith("evt_bench") && a.createdAt >= liveStart);
    const liveDelay = delays(live);
    const duplicates = arrivals.length - new Set(arrivals.map((a) => a.webhookId)).size;

    const lines = [
      `# Webhook benchmark — ${new Date().toISOString()}`,
      "",
      `Real server in production mode on PostgreSQL (127.0.0.1), in-process worker with concurrency ${CONCURRENCY}, one HTTPS receiver on loopback answering 204 (its own process); Node ${process.version}, ${cpus().length} cores.`,
      "",
      "| phase | events | events/s | p50 change→receiver ms | p99 ms | server CPU µs/event |",
      "|---|---:|---:|---:|---:|---:|",
      `| drain ${EVENTS} queued events | ${bulk.length} | ${((bulk.length / drainMs) * 1000).toFixed(0)} | ${bulkDelay.p50} | ${bulkDelay.p99} | ${drainCpuUs.toFixed(0)} |`,
      `| live: ${posts} POST /v1/requests over ${SECONDS} s | ${live.length} | ${((live.length / (SECONDS * 1000)) * 1000).toFixed(0)} | ${liveDelay.p50} | ${liveDelay.p99} | |`,
      "",
      `Duplicate deliveries: ${duplicates}. A commit that wrote events nudges the in-process dispatcher (Worker.nudge), which nudges the webhook sender for the deliveries it created, so the live delay is bound to neither one's 1 s period.`,
      "",
    ];
    console.log(`\n${lines.join("\n")}`);
    const out = resultsFile("webhooks");
    writeFileSync(out, lines.join("\n"));
    console.log(`Written to ${out}`);
  } finally {
    if (server && server.exitCode === null) {
      const exited = new Promise((resolve) => server?.once("exit", resolve));
      server.kill("SIGTERM");
      await exited;
    }
    await receiver.close();
    await db.end();
    await admin.unsafe(`drop database if exists "${dbName}" with (force)`);
    await admin.end();
    step("dropped the throwaway database");
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
