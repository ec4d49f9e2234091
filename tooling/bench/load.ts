// Load benchmark: POST /v1/requests and GET /v1/requests/{id} against the real server (its own
// process, on PostgreSQL) and, in the same run, against a minimal plain-Node handler doing the same
// SQL (minimal-server.ts). autocannon drives both from this, a second process.
// Prints requests/s, p50/p99 latency and the ratio, plus what auth + rate limiting cost inside the
// server (from its Server-Timing header), and writes the table to results/load-latest.md.
//
//   pnpm bench                       (BENCH_DATABASE_URL, BENCH_SECONDS, BENCH_CONNECTIONS to tune)
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { randomBase62 } from "@approvalmatrix/core";
import autocannon from "autocannon";
import postgres from "postgres";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const POOL = process.env.BENCH_POOL ?? "10";
const BRIDGE_PORT = 43_117;

const step = (message: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${message}`);

const dbName = `apx_bench_${Date.now()}`;
const databaseUrl = Object.assign(new URL(ADMIN_URL), { pathname: `/${dbName}` }).toString();
const secret = randomBase62(48);
const env = {
  ...process.env,
  DATABASE_URL: databaseUrl,
  API_KEY_HASH_SECRET: secret,
  NODE_ENV: "production",
  DATABASE_POOL_SIZE: POOL,
  POOL,
};
delete (env as Record<string, string | undefined>).REDIS_URL;
if (process.env.REDIS_URL && process.env.BENCH_REDIS === "1") env.REDIS_URL = process.env.REDIS_URL;

function startProcess(name: string, args: string[], cwd: string, extra: Record<string, string>, ready: RegExp): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", ...args], {
      cwd,
      env: { ...env, ...extra },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (ready.test(output)) resolve(Object.assign(child, { readyOutput: output }));
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("exit", (code) => reject(new Error(`${name} exited (${code}):\n${output}`)));
  });
}

async function load(url: string, method: "GET" | "POST", key: string, ids: string[]) {
  const body = JSON.stringify({ submitterRef: "EMP-1042", requestType: "purchase_order", title: "Bench order", amount: 4500 });
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
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
  const bad = result.non2xx + result.errors + result.timeouts;
  if (bad > 0) throw new Error(`${method} ${url}: ${bad} failed responses of ${result.requests.total}`);
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, total: result.requests.total };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function main() {
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
  step(`creating throwaway database ${dbName}`);
  await admin.unsafe(`create database "${dbName}"`);
  const children: ChildProcess[] = [];
  try {
    step("starting the real server (migrates and seeds the demo tenant)");
    children.push(
      await startProcess(
        "server",
        ["src/main.ts"],
        `${ROOT}apps/web`,
        { PORT: String(BRIDGE_PORT), HOST: "127.0.0.1" },
        /ApprovalMatrix is running/,
      ),
    );
    step("creating a bench key with a high rate limit through the CLI");
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
        "requests:write,requests:read",
        "--rate-limit",
        "1000000",
        "--json",
      ],
      {
        cwd: `${ROOT}apps/web`,
        env,
        encoding: "utf8",
      },
    );
    if (cli.status !== 0) throw new Error(cli.stderr);
    const key = (JSON.parse(cli.stdout) as { key: string }).key;
    step("starting the minimal handler");
    const minimalProcess = await startProcess("minimal", ["minimal-server.ts"], `${ROOT}tooling/bench`, { PORT: "0" }, /listening \d+/);
    children.push(minimalProcess);

    const bridge = `http://127.0.0.1:${BRIDGE_PORT}`;
    const minimal = `http://127.0.0.1:${(minimalProcess as ChildProcess & { readyOutput: string }).readyOutput.match(/listening (\d+)/)![1]}`;
    step("warming up both (3 s each)");
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

    const rows: { name: string; bridge: Awaited<ReturnType<typeof load>>; minimal: Awaited<ReturnType<typeof load>>; target: number }[] =
      [];
    for (const [name, method, target] of [
      ["create  POST /v1/requests", "POST", 0.7],
      ["status  GET /v1/requests/{id}", "GET", 0.8],
    ] as const) {
      const ids =
        method === "GET"
          ? (await postgres(databaseUrl, { max: 1 })`select id from requests order by random() limit 2000`).map((r) => r.id as string)
          : [];
      step(`${name}: real server, ${SECONDS} s × ${CONNECTIONS} connections`);
      const b = await load(bridge, method, key, ids);
      step(`${name}: minimal handler, ${SECONDS} s × ${CONNECTIONS} connections`);
      const m = await load(minimal, method, key, ids);
      rows.push({ name, bridge: b, minimal: m, target });
    }

    step("sampling Server-Timing auth+rate limit over 2000 sequential GETs");
    const [sample] = await postgres(databaseUrl, { max: 1 })`select id from requests limit 1`;
    const durations: number[] = [];
    for (let i = 0; i < 2000; i++) {
      const res = await fetch(`${bridge}/v1/requests/${sample!.id}`, { headers: { authorization: `Bearer ${key}` } });
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
      `PostgreSQL ${dbName.replace(/_\d+$/, "")} on 127.0.0.1, pool ${POOL}, rate-limit store ${store}; autocannon ${CONNECTIONS} connections × ${SECONDS} s per run, from a second process; Node ${process.version}, 2 cores.`,
      "",
      "| endpoint | real server req/s | p50 ms | p99 ms | minimal req/s | p50 ms | p99 ms | ratio | target |",
      "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
      ...rows.map(
        (r) =>
          `| ${r.name} | ${r.bridge.rps.toFixed(0)} | ${r.bridge.p50} | ${r.bridge.p99} | ${r.minimal.rps.toFixed(0)} | ${r.minimal.p50} | ${r.minimal.p99} | ${((r.bridge.rps / r.minimal.rps) * 100).toFixed(0)} % | ≥ ${r.target * 100} % ${r.bridge.rps / r.minimal.rps >= r.target ? "✔" : "✘"} |`,
      ),
      "",
      `Authentication + rate limiting inside the real server (Server-Timing, ${durations.length} sequential calls): p50 ${authP50.toFixed(3)} ms, p99 ${authP99.toFixed(3)} ms (target p50 < 0.3 ms ${authP50 < 0.3 ? "✔" : "✘"}).`,
      "",
    ];
    console.log(`\n${lines.join("\n")}`);
    mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
    writeFileSync(new URL("./results/load-latest.md", import.meta.url), lines.join("\n"));
  } finally {
    for (const child of children) child.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 500));
    await admin.unsafe(`drop database if exists "${dbName}" with (force)`);
    await admin.end();
    step("dropped the throwaway database");
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
