// bench:soak — mixed traffic at a steady rate against one compiled server on PostgreSQL for
// BENCH_SOAK_MINUTES (default 10): creates, status reads, lists and decisions. Every
// BENCH_SOAK_SAMPLE_SECONDS it records the server's RSS (/proc), heap used and event-loop delay p99
// (its own /metrics); it fails on any error response and prints (and writes to the results file) a
// table and small charts, with the growth of RSS and heap after warm-up (the first fifth).
//
//   pnpm bench:soak   (BENCH_SOAK_MINUTES=10, BENCH_SOAK_RATE=100 requests/s, BENCH_SOAK_SAMPLE_SECONDS=10)
import { writeFileSync } from "node:fs";
import { randomBase62 } from "@approvalmatrix/core";
import { resultsFile } from "./results-file";
import { PURCHASE_ORDER, benchEnv, createBenchDatabase, createBenchKey, rssMb, startServer, step, stopServer } from "./servers";

const MINUTES = Number(process.env.BENCH_SOAK_MINUTES ?? 10);
const RATE = Number(process.env.BENCH_SOAK_RATE ?? 100);
const SAMPLE_SECONDS = Number(process.env.BENCH_SOAK_SAMPLE_SECONDS ?? 10);
const MAX_IN_FLIGHT = 64;

interface Sample {
  second: number;
  rssMb: number;
  heapMb: number;
  loopP99Ms: number;
  requests: number;
}

/** One metric's value from the Prometheus text. */
function metric(text: string, name: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  return line ? Number(line.slice(name.length + 1)) : Number.NaN;
}

/** A one-line chart of `values` (eight levels, min to max). */
function sparkline(values: number[]): string {
  const bars = "▁▂▃▄▅▆▇█";
  const min = Math.min(...values);
  const max = Math.max(...values);
  return values.map((v) => bars[max === min ? 0 : Math.round(((v - min) / (max - min)) * 7)]).join("");
}

/** Least-squares slope of `values` per sample. */
function slope(values: number[]): number {
  const n = values.length;
  if (n < 2) return 0;
  const meanX = (n - 1) / 2;
  const meanY = values.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  values.forEach((y, x) => {
    num += (x - meanX) * (y - meanY);
    den += (x - meanX) ** 2;
  });
  return num / den;
}

async function main() {
  const token = randomBase62(32);
  const database = await createBenchDatabase("apx_soak");
  const env = benchEnv(database.url, { METRICS_TOKEN: token });
  const server = await startServer(env, 43_300);
  const samples: Sample[] = [];
  const errors: string[] = [];
  let done = 0;
  try {
    const key = createBenchKey(env);
    const headers = { authorization: `Bearer ${key}`, "content-type": "application/json" };
    const pending: string[] = [];
    const known: string[] = [];
    let inFlight = 0;
    const send = async (method: string, path: string, body?: unknown) => {
      inFlight++;
      try {
        const res = await fetch(`${server.url}${path}`, { method, headers, ...(body ? { body: JSON.stringify(body) } : {}) });
        const json = (await res.json()) as { requestId?: string };
        if (!res.ok) errors.push(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
        return json;
      } catch (error) {
        errors.push(`${method} ${path}: ${(error as Error).message}`);
        return {};
      } finally {
        inFlight--;
        done++;
      }
    };
    const one = async (n: number) => {
      const kind = n % 10;
      if (kind < 4 || known.length === 0) {
        const { requestId } = await send("POST", "/v1/requests", { ...PURCHASE_ORDER, title: `Soak ${n}` });
        if (requestId) {
          pending.push(requestId);
          known.push(requestId);
          if (known.length > 5000) known.shift();
        }
      } else if (kind < 7) await send("GET", `/v1/requests/${known[Math.floor(Math.random() * known.length)]}`);
      else if (kind < 9) await send("GET", "/v1/requests?limit=20");
      else {
        const id = pending.shift();
        if (id) await send("POST", `/v1/requests/${id}/decisions`, { approverRef: "EMP-2001", decision: "approved" });
        else await send("GET", "/v1/requests?status=approved&limit=20");
      }
    };

    const started = Date.now();
    const end = started + MINUTES * 60_000;
    step(`soak: ${MINUTES} min at ${RATE} requests/s, a sample every ${SAMPLE_SECONDS} s`);
    let n = 0;
    const sampler = setInterval(() => {
      void (async () => {
        const text = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.text());
        const sample = {
          second: Math.round((Date.now() - started) / 1000),
          rssMb: rssMb(server.child.pid),
          heapMb: metric(text, "approvalmatrix_nodejs_heap_size_used_bytes") / 2 ** 20,
          loopP99Ms: metric(text, "approvalmatrix_nodejs_eventloop_lag_p99_seconds") * 1000,
          requests: done,
        };
        samples.push(sample);
        step(
          `  ${sample.second} s: RSS ${sample.rssMb.toFixed(1)} MB, heap ${sample.heapMb.toFixed(1)} MB, loop p99 ${sample.loopP99Ms.toFixed(1)} ms, ${done} requests, ${errors.length} errors`,
        );
      })();
    }, SAMPLE_SECONDS * 1000);
    // Steady rate: every 100 ms the requests due by now are sent (bounded in flight).
    while (Date.now() < end) {
      const due = Math.floor(((Date.now() - started) / 1000) * RATE);
      while (n < due && inFlight < MAX_IN_FLIGHT) void one(n++);
      await new Promise((r) => setTimeout(r, 100));
    }
    clearInterval(sampler);
    while (inFlight > 0) await new Promise((r) => setTimeout(r, 50));
  } finally {
    await stopServer(server);
    await database.drop();
  }

  const warm = samples.slice(Math.floor(samples.length / 5));
  const perMinute = 60 / SAMPLE_SECONDS;
  const lines = [
    `# Soak — ${new Date().toISOString()}`,
    "",
    `${MINUTES} min of mixed traffic (40 % create, 30 % status, 20 % list, 10 % decisions) at ${RATE} requests/s against one compiled server on PostgreSQL; ${done} requests, ${errors.length} errors.`,
    "",
    `RSS MB       ${sparkline(samples.map((s) => s.rssMb))}  (${Math.min(...samples.map((s) => s.rssMb)).toFixed(0)}–${Math.max(...samples.map((s) => s.rssMb)).toFixed(0)})`,
    `heap MB      ${sparkline(samples.map((s) => s.heapMb))}  (${Math.min(...samples.map((s) => s.heapMb)).toFixed(0)}–${Math.max(...samples.map((s) => s.heapMb)).toFixed(0)})`,
    `loop p99 ms  ${sparkline(samples.map((s) => s.loopP99Ms))}  (${Math.min(...samples.map((s) => s.loopP99Ms)).toFixed(1)}–${Math.max(...samples.map((s) => s.loopP99Ms)).toFixed(1)})`,
    "",
    `After warm-up (from ${warm[0]?.second ?? 0} s): RSS trend ${(slope(warm.map((s) => s.rssMb)) * perMinute).toFixed(2)} MB/min, heap trend ${(slope(warm.map((s) => s.heapMb)) * perMinute).toFixed(2)} MB/min.`,
    "",
    "| s | RSS MB | heap MB | loop p99 ms | requests |",
    "|---:|---:|---:|---:|---:|",
    ...samples.map((s) => `| ${s.second} | ${s.rssMb.toFixed(1)} | ${s.heapMb.toFixed(1)} | ${s.loopP99Ms.toFixed(1)} | ${s.requests} |`),
    "",
    ...(errors.length ? ["First errors:", "", ...errors.slice(0, 10).map((e) => `- ${e}`), ""] : []),
  ];
  console.log(`\n${lines.join("\n")}`);
  const out = resultsFile("soak");
  writeFileSync(out, lines.join("\n"));
  console.log(`Written to ${out}`);
  if (errors.length) process.exit(1);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
