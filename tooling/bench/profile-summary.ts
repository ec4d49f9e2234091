// Where a server's CPU goes, by layer, from a V8 CPU profile (node --cpu-prof): the "flame graph
// summary" of the load benchmark. Self time of every sampled frame is charged to the layer its code
// belongs to (a bundled frame is placed by the `// path` comments esbuild leaves in the bundle),
// idle time is left out. With the CPU µs per request of each server, shares become µs per request,
// and the table shows where the real server's extra microseconds go.
//
//   node --import tsx profile-summary.ts real.cpuprofile minimal.cpuprofile [realCpuUs minimalCpuUs]
//   (pnpm bench writes both profiles and this table with BENCH_PROFILE=dir)
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Layers in the order the table lists them; the first rule that matches a frame wins. */
const LAYERS: [string, (where: string, fn: string) => boolean][] = [
  ["garbage collection", (_w, fn) => fn === "(garbage collector)"],
  [
    "socket and pipe writes (syscalls)",
    (w, fn) => w === "" && /^(writeBuffer|writev|writeString|writeUtf8String|writeLatin1String)$/.test(fn),
  ],
  ["postgres.js driver", (w) => w.startsWith("postgres/")],
  ["drizzle (query building, row mapping)", (w) => w.startsWith("drizzle-orm/")],
  ["REST bridge (trpc-to-openapi)", (w) => w.startsWith("trpc-to-openapi/")],
  ["tRPC (middlewares, callers)", (w) => w.startsWith("@trpc/server/")],
  ["zod (input and output validation)", (w) => w.startsWith("zod/")],
  ["logging (pino)", (w) => /^(pino|@pinojs|sonic-boom|thread-stream)\//.test(w)],
  ["metrics (prom-client)", (w) => w.startsWith("prom-client/")],
  ["ApprovalMatrix API (packages/api)", (w) => w.includes("packages/api/")],
  ["domain and db helpers (packages/core, db)", (w) => w.includes("packages/core/") || w.includes("packages/db/")],
  ["server shell (apps/web/src)", (w) => (/(^|\/)src\/[^/]+\.ts$/.test(w) && !w.includes("packages/")) || w.includes("apps/web/src")],
  ["the minimal handler's own code", (w) => w.includes("minimal-server")],
  ["Node HTTP, streams, timers", (w) => w.startsWith("node:")],
  ["promise machinery", (_w, fn) => fn === "runMicrotasks" || fn === "(program)"],
];
const OTHER = "other (module loading, crypto, Buffer, …)";

/** The `// path` markers of a bundle, so that a frame's line can be placed in its source module. */
const markerCache = new Map<string, [number, string][]>();
function sourceModule(url: string, line: number): string {
  if (!url.startsWith("file://") || !/\/dist\//.test(url)) return url;
  let markers = markerCache.get(url);
  if (!markers) {
    markers = [];
    // A bundle rebuilt since the profile was taken cannot place its frames: they count as "other".
    const lines = existsSync(fileURLToPath(url)) ? readFileSync(fileURLToPath(url), "utf8").split("\n") : [];
    for (let i = 0; i < lines.length; i++) {
      const match = /^\/\/ (\S+)$/.exec(lines[i] ?? "");
      if (match?.[1]) markers.push([i, match[1]]);
    }
    markerCache.set(url, markers);
  }
  let found = url;
  let lo = 0;
  let hi = markers.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const marker = markers[mid];
    if (!marker) break;
    if (marker[0] <= line) {
      found = marker[1];
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/** Busy CPU time (ms) per layer in one profile. */
export function layersOf(file: string): Map<string, number> {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const layers = new Map<string, number>();
  for (const node of profile.nodes) {
    const us = selfUs.get(node.id) ?? 0;
    const { functionName, url, lineNumber } = node.callFrame;
    if (!us || functionName === "(idle)" || functionName === "(root)") continue;
    // A package's own path, without the pnpm store directory (whose name lists its peers).
    const module = sourceModule(url, lineNumber);
    const where = module.includes("node_modules/") ? module.slice(module.lastIndexOf("node_modules/") + "node_modules/".length) : module;
    const layer = LAYERS.find(([, matches]) => matches(where, functionName))?.[0] ?? OTHER;
    layers.set(layer, (layers.get(layer) ?? 0) + us / 1000);
  }
  return layers;
}

/**
 * A Markdown table: each layer's share of each server's busy CPU and, given each server's CPU µs
 * per request, its µs per request and the difference.
 */
export function profileTable(realFile: string, minimalFile: string, cpuUs?: { real: number; minimal: number }): string {
  const real = layersOf(realFile);
  const minimal = layersOf(minimalFile);
  const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
  const [realTotal, minimalTotal] = [total(real), total(minimal)];
  const names = [...LAYERS.map(([name]) => name), OTHER].filter((name) => (real.get(name) ?? 0) + (minimal.get(name) ?? 0) > 0);
  const perRequest = (ms: number, all: number, us: number) => (ms / all) * us;
  const rows = names.map((name) => {
    const r = real.get(name) ?? 0;
    const m = minimal.get(name) ?? 0;
    const shares = `${((100 * r) / realTotal).toFixed(1)} % | ${((100 * m) / minimalTotal).toFixed(1)} %`;
    if (!cpuUs) return { name, diff: r / realTotal - m / minimalTotal, line: `| ${name} | ${shares} |` };
    const ru = perRequest(r, realTotal, cpuUs.real);
    const mu = perRequest(m, minimalTotal, cpuUs.minimal);
    return {
      name,
      diff: ru - mu,
      line: `| ${name} | ${shares} | ${ru.toFixed(0)} | ${mu.toFixed(0)} | ${(ru - mu >= 0 ? "+" : "") + (ru - mu).toFixed(0)} |`,
    };
  });
  rows.sort((a, b) => b.diff - a.diff);
  const head = cpuUs
    ? ["| layer | real: share of CPU | minimal: share | real µs/req | minimal µs/req | difference µs |", "|---|---:|---:|---:|---:|---:|"]
    : ["| layer | real: share of CPU | minimal: share |", "|---|---:|---:|"];
  const foot = cpuUs
    ? [`| **all** | 100 % | 100 % | ${cpuUs.real.toFixed(0)} | ${cpuUs.minimal.toFixed(0)} | +${(cpuUs.real - cpuUs.minimal).toFixed(0)} |`]
    : [];
  return [...head, ...rows.map((r) => r.line), ...foot].join("\n");
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [realFile, minimalFile, realUs, minimalUs] = process.argv.slice(2);
  if (!realFile || !minimalFile) {
    console.error("usage: profile-summary.ts real.cpuprofile minimal.cpuprofile [realCpuUs minimalCpuUs]");
    process.exit(2);
  }
  console.log(profileTable(realFile, minimalFile, realUs && minimalUs ? { real: Number(realUs), minimal: Number(minimalUs) } : undefined));
}
