// bench:scale — throughput and CPU per request with 1, 2 and 3 instances of the compiled server on
// one PostgreSQL (rate-limit counters there too; BENCH_REDIS=1 uses Redis). autocannon drives every
// instance at once from this process, the connections split evenly (no proxy whose own CPU would
// count). On two cores the throughput gain is bounded; the figure to watch is CPU per request
// staying flat as instances are added.
//
//   pnpm bench:scale   (BENCH_SECONDS, BENCH_CONNECTIONS, BENCH_INSTANCES="1,2,3" to tune)
import { writeFileSync } from "node:fs";
import { cpus } from "node:os";
import autocannon from "autocannon";
import { resultsFile } from "./results-file";
import {
  PURCHASE_ORDER,
  type ServerProcess,
  benchEnv,
  cpuMs,
  createBenchDatabase,
  createBenchKey,
  startServer,
  step,
  stopServer,
} from "./servers";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 30);
const COUNTS = (process.env.BENCH_INSTANCES ?? "1,2,3").split(",").map(Number);
const BASE_PORT = 43_200;

interface Row {
  instances: number;
  method: string;
  rps: number;
  p50: number;
  p99: number;
  cpuUs: number;
}

async function drive(
  servers: ServerProcess[],
  method: "GET" | "POST",
  key: string,
  path: string,
): Promise<Omit<Row, "instances" | "method">> {
  const cpuBefore = servers.map((s) => cpuMs(s.child.pid));
  const per = Math.max(1, Math.round(CONNECTIONS / servers.length));
  const results = await Promise.all(
    servers.map((s) =>
      autocannon({
        url: s.url,
        connections: per,
        duration: SECONDS,
        requests: [
          method === "POST"
            ? {
                method,
                path: "/v1/requests",
                headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
                body: JSON.stringify(PURCHASE_ORDER),
              }
            : { method, path, headers: { authorization: `Bearer ${key}` } },
        ],
      }),
    ),
  );
  const cpu = servers.reduce((sum, s, i) => sum + (cpuMs(s.child.pid) - (cpuBefore[i] ?? 0)), 0);
  const total = results.reduce((sum, r) => sum + r.requests.total, 0);
  const bad = results.reduce((sum, r) => sum + r.non2xx + r.errors + r.timeouts, 0);
  if (bad > 0) throw new Error(`${method}: ${bad} failed responses of ${total}`);
  return {
    rps: results.reduce((sum, r) => sum + r.requests.average, 0),
    p50: Math.max(...results.map((r) => r.latency.p50)),
    p99: Math.max(...results.map((r) => r.latency.p99)),
    cpuUs: (cpu * 1000) / total,
  };
}

async function main() {
  const database = await createBenchDatabase("apx_scale");
  const env = benchEnv(database.url, { DATABASE_POOL_SIZE: process.env.BENCH_POOL ?? "10" });
  const rows: Row[] = [];
  const servers: ServerProcess[] = [];
  try {
    step("first instance (migrates and seeds the demo tenant)");
    servers.push(await startServer(env, BASE_PORT));
    const key = createBenchKey(env);
    const created = await fetch(`${servers[0]?.url}/v1/requests`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify(PURCHASE_ORDER),
    });
    const { requestId } = (await created.json()) as { requestId: string };
    for (const count of COUNTS) {
      while (servers.length < count) servers.push(await startServer(env, BASE_PORT + servers.length));
      while (servers.length > count) await stopServer(servers.pop() as ServerProcess);
      for (const method of ["POST", "GET"] as const) {
        step(`${count} instance(s): ${method}, ${SECONDS} s × ${CONNECTIONS} connections`);
        rows.push({ instances: count, method, ...(await drive(servers, method, key, `/v1/requests/${requestId}`)) });
      }
    }
  } finally {
    await Promise.all(servers.map(stopServer));
    await database.drop();
  }
  const lines = [
    `# Scale benchmark — ${new Date().toISOString()}`,
    "",
    `One PostgreSQL on 127.0.0.1; instances of the compiled server; autocannon ${CONNECTIONS} connections split over the instances, ${SECONDS} s per case; Node ${process.version}, ${cpus().length} cores. CPU: all server processes' user + system time per request.`,
    "",
    "| instances | endpoint | req/s | p50 ms | p99 ms | CPU µs/req |",
    "|---:|---|---:|---:|---:|---:|",
    ...rows.map(
      (r) =>
        `| ${r.instances} | ${r.method === "POST" ? "POST /v1/requests" : "GET /v1/requests/{id}"} | ${r.rps.toFixed(0)} | ${r.p50} | ${r.p99} | ${r.cpuUs.toFixed(0)} |`,
    ),
    "",
  ];
  console.log(`\n${lines.join("\n")}`);
  const out = resultsFile("scale");
  writeFileSync(out, lines.join("\n"));
  console.log(`Written to ${out}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
