/**
 * The cost of signed receipts on the decision path, and verification throughput.
 *
 *   pnpm --filter @approvalmatrix/bench bench:receipts [-- --decisions 300 --verify-seconds 5]
 *
 * In process over one embedded database (PGlite, or PostgreSQL with DATABASE_URL via
 * TEST_DATABASE_URL): requests are submitted first, then decided one after another (concurrency
 * 1: the figure is the latency the receipt step adds, not lock contention) through the real
 * decide service, alternately writing receipts (the product) and with the receipt step made a
 * no-op signer (the baseline). The two sides alternate decision by decision, after a warm-up that
 * is not counted, so neither JIT warm-up nor a neighbour's load on a shared machine lands on one
 * side only. Then: receipts verified per second per core (signature + canonical form), and full
 * public verifications (GET /v1/requests/{id}/verify's service) per second. The table goes to
 * results/local/receipts-latest.md, or with BENCH_SAVE=1 to the tracked results/receipts-latest.md.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import { parseArgs } from "node:util";
import { MemoryRateLimitStore, RateLimiter, ReceiptSigner, createCaller, createTenant, verifyRequest } from "@approvalmatrix/api";
import { type DsseEnvelope, must, systemClock, verifyReceiptEnvelope } from "@approvalmatrix/core";
import { type Database, receipts, rowsOf, sql } from "@approvalmatrix/db";
import { createTestDatabase, testDatabaseEngine } from "@approvalmatrix/db/testing";
import { resultsFile } from "./results-file";

const { values } = parseArgs({
  options: {
    decisions: { type: "string", default: "300" },
    "verify-seconds": { type: "string", default: "5" },
    rounds: { type: "string", default: "3" },
  },
});
const DECISIONS = Number(values.decisions);
const VERIFY_SECONDS = Number(values["verify-seconds"]);
const ROUNDS = Number(values.rounds);

const database = await createTestDatabase();
const db: Database = database.db;
const signer = new ReceiptSigner(db, "bench-secret-for-receipt-signing-keys-0123456789");
await signer.ensureKeys();

/** The baseline: the same decide path with the receipt append (lock, sign, insert) skipped. */
class NoReceipts extends ReceiptSigner {
  override append(): Promise<void> {
    return Promise.resolve();
  }
}
const noReceipts = new NoReceipts(db, "bench-secret-for-receipt-signing-keys-0123456789");

const deps = (receiptSigner: ReceiptSigner) => ({
  db,
  apiKeyHashSecret: "bench-secret-not-used",
  rateLimiter: new RateLimiter(new MemoryRateLimitStore()),
  maxBodyBytes: 1 << 20,
  receipts: receiptSigner,
  clock: systemClock,
});

const tenant = await createTenant(db, { name: "Bench", slug: "bench" });
const operatorCaller = (receiptSigner: ReceiptSigner) =>
  createCaller({
    deps: deps(receiptSigner),
    requestId: "bench",
    authorization: null,
    credentialInQuery: false,
    response: { headers: {} },
    actor: { kind: "operator", tenantId: tenant.id },
  });
const operator = operatorCaller(signer);
await operator.admin.members.create({ name: "Submitter", externalRef: "S-1", department: "Ops" });
await operator.admin.members.create({ name: "Approver", externalRef: "A-1", department: "Finance" });
// Two stages so most decisions are not terminal (a terminal one also signs a checkpoint).
await operator.admin.matrices.create({
  name: "Bench",
  requestType: "bench",
  stages: [
    { name: "Finance", approvers: { type: "department", department: "Finance" }, rule: "any" },
    { name: "Finance again", approvers: { type: "department", department: "Finance" }, rule: "any" },
  ],
});

const { key } = await operator.admin.apiKeys.create({
  name: "bench",
  scopes: ["requests:write", "decisions:write"],
  rateLimitPerMinute: 1_000_000,
});
/** The /v1 procedures as a keyed caller, in process (no HTTP: the figure is the decision path's). */
const keyed = (receiptSigner: ReceiptSigner) =>
  createCaller({
    deps: deps(receiptSigner),
    requestId: "bench",
    authorization: `Bearer ${key}`,
    credentialInQuery: false,
    response: { headers: {} },
    actor: null,
    clientIp: "bench",
  });

async function submitMany(n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const created = await keyed(signer).requests.create({
      submitterRef: "S-1",
      requestType: "bench",
      title: `Bench ${i}`,
      amount: i,
      metadata: { i },
    });
    ids.push(created.requestId);
  }
  return ids;
}

/**
 * CPU time (ms) the database server's backends serving this bench have used, from
 * /proc/<pid>/schedstat (nanoseconds); null when the server is not on this machine or not readable.
 */
async function backendPids(): Promise<number[]> {
  const rows = rowsOf<{ pid: number }>(await db.execute(sql`select pid from pg_stat_activity where datname = current_database()`));
  return rows.map((r) => r.pid);
}
function serverCpuMs(pids: number[]): number | null {
  let ns = 0;
  for (const pid of pids) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/schedstat`, "utf8").split(" ")[0]);
    } catch {
      return null;
    }
  }
  return ns / 1e6;
}

interface SideFigures {
  /** Decisions per second. */
  rate: number;
  /** CPU per decision, ms: this process, and the database's backends (null: not measurable). */
  nodeCpu: number;
  serverCpu: number | null;
}

/**
 * Decides `ids` alternating with and without receipts. Besides wall time, the CPU each decision
 * used in this process and in the database's backends: on a shared machine CPU per decision is
 * steadier than throughput, which swings with the neighbours' load.
 */
async function decideInterleaved(ids: string[]): Promise<{ with: SideFigures; without: SideFigures }> {
  const sides = [
    { caller: keyed(signer), ms: 0, n: 0, nodeCpu: 0, serverCpu: 0 as number | null },
    { caller: keyed(noReceipts), ms: 0, n: 0, nodeCpu: 0, serverCpu: 0 as number | null },
  ];
  // A decision runs in one transaction, on one of the pool's connections (opened by the warm-up).
  const pids = process.platform === "linux" && testDatabaseEngine() === "postgres" ? await backendPids() : [];
  for (const [i, requestId] of ids.entries()) {
    // ABBA order, so neither side always runs right after the other.
    const side = must(sides[(i + (i >> 1)) % 2]);
    const serverBefore = serverCpuMs(pids);
    const cpu = process.cpuUsage();
    const started = performance.now();
    await side.caller.requests.decide({ requestId, approverRef: "A-1", decision: "approved" });
    side.ms += performance.now() - started;
    const used = process.cpuUsage(cpu);
    const serverAfter = serverCpuMs(pids);
    side.nodeCpu += (used.user + used.system) / 1000;
    side.serverCpu =
      side.serverCpu === null || serverBefore === null || serverAfter === null ? null : side.serverCpu + serverAfter - serverBefore;
    side.n++;
  }
  const [a, b] = sides.map((s) => ({
    rate: (s.n / s.ms) * 1000,
    nodeCpu: s.nodeCpu / s.n,
    serverCpu: pids.length && s.serverCpu !== null ? s.serverCpu / s.n : null,
  }));
  return { with: must(a), without: must(b) };
}

await decideInterleaved(await submitMany(Math.min(100, DECISIONS)));
const withReceipts: number[] = [];
const without: number[] = [];
const costs: number[] = [];
/** Per round: CPU ms per decision with and without receipts (node + database server, when measurable). */
const cpuWith: number[] = [];
const cpuWithout: number[] = [];
let serverMeasured = process.platform === "linux" && testDatabaseEngine() === "postgres";
for (let round = 0; round < ROUNDS; round++) {
  const rates = await decideInterleaved(await submitMany(2 * DECISIONS));
  withReceipts.push(rates.with.rate);
  without.push(rates.without.rate);
  costs.push(((rates.without.rate - rates.with.rate) / rates.without.rate) * 100);
  console.log(
    `round ${round + 1}: CPU ms per decision, this process ${rates.with.nodeCpu.toFixed(2)} with / ${rates.without.nodeCpu.toFixed(2)} without; database backends ${rates.with.serverCpu?.toFixed(2) ?? "?"} / ${rates.without.serverCpu?.toFixed(2) ?? "?"}`,
  );
  cpuWith.push(rates.with.nodeCpu + (rates.with.serverCpu ?? 0));
  cpuWithout.push(rates.without.nodeCpu + (rates.without.serverCpu ?? 0));
  if (rates.with.serverCpu === null) serverMeasured = false;
}
const median = (xs: number[]) => {
  const sorted = [...xs].sort((x, y) => x - y);
  const mid = sorted.length / 2;
  return sorted.length % 2 ? must(sorted[Math.floor(mid)]) : (must(sorted[mid - 1]) + must(sorted[mid])) / 2;
};
const w = median(withReceipts);
const wo = median(without);

const rows = await db.select().from(receipts).limit(2000);
const envelopes: DsseEnvelope[] = rows.map((r) => ({ payload: r.payload, payloadType: r.payloadType, signatures: r.signatures }));
const keys = await signer.keyResolver();
let verified = 0;
const until = performance.now() + VERIFY_SECONDS * 1000;
while (performance.now() < until) {
  if (!verifyReceiptEnvelope(must(envelopes[verified % envelopes.length]), keys).ok) throw new Error("a receipt failed to verify");
  verified++;
}
const perSecond = verified / VERIFY_SECONDS;

const requestIds = [...new Set(rows.map((r) => r.requestId))];
let full = 0;
const fullUntil = performance.now() + VERIFY_SECONDS * 1000;
while (performance.now() < fullUntil) {
  // The service behind the endpoint (the endpoint's per-address limit would end the run early).
  const verdict = await verifyRequest(db, signer, { requestId: must(requestIds[full % requestIds.length]) });
  if (!verdict.valid) throw new Error(`request ${verdict.requestId} did not verify: ${verdict.reasons.join(" ")}`);
  full++;
}

const cost = median(costs);
console.log(`decisions/s with receipts:    ${w.toFixed(1)}  (rounds: ${withReceipts.map((x) => x.toFixed(1)).join(", ")})`);
console.log(`decisions/s without receipts: ${wo.toFixed(1)}  (rounds: ${without.map((x) => x.toFixed(1)).join(", ")})`);
console.log(
  `cost of signing on the decision path: ${cost.toFixed(1)} % fewer decisions/s (target ≤ 10 %)  (rounds: ${costs.map((x) => x.toFixed(1)).join(", ")})`,
);
console.log(`receipt signature checks per second, one core: ${perSecond.toFixed(0)}`);
console.log(
  `full public verifications (GET /v1/requests/{id}/verify service) in ${VERIFY_SECONDS}s: ${full} (${(full / VERIFY_SECONDS).toFixed(1)}/s)`,
);

const engine = testDatabaseEngine();
const cpuCosts = cpuWith.map((c, i) => ((c - must(cpuWithout[i])) / c) * 100);
const cpuCost = median(cpuCosts);
const cpuWhat = serverMeasured ? "this process + PostgreSQL backends" : "this process only";
console.log(
  `CPU per decision (${cpuWhat}): with receipts ${median(cpuWith).toFixed(2)} ms, without ${median(cpuWithout).toFixed(2)} ms: ${cpuCost.toFixed(1)} % of a decision's CPU is the receipt step  (rounds: ${cpuCosts.map((x) => x.toFixed(1)).join(", ")})`,
);
const serverVersion = rowsOf<{ v: string }>(await db.execute(sql`select current_setting('server_version') as v`))[0]?.v ?? "?";
await database.destroy();
const table = [
  `### Receipts — ${engine === "postgres" ? "PostgreSQL" : "PGlite (embedded)"} ${serverVersion}`,
  "",
  `${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC · Node ${process.version} · ${os.availableParallelism()} cores, load average ${os.loadavg()[0]?.toFixed(1)} at the end · \`--decisions ${DECISIONS} --rounds ${ROUNDS} --verify-seconds ${VERIFY_SECONDS}\` · decisions one at a time, alternating with and without receipts`,
  "",
  `| round | decisions/s with receipts | without | fewer with receipts | CPU ms per decision with / without (${cpuWhat}) | CPU share of the receipt step |`,
  "| --- | ---: | ---: | ---: | ---: | ---: |",
  ...costs.map(
    (c, i) =>
      `| ${i + 1} | ${must(withReceipts[i]).toFixed(1)} | ${must(without[i]).toFixed(1)} | ${c.toFixed(1)} % | ${must(cpuWith[i]).toFixed(2)} / ${must(cpuWithout[i]).toFixed(2)} | ${must(cpuCosts[i]).toFixed(1)} % |`,
  ),
  `| **median** | **${w.toFixed(1)}** | **${wo.toFixed(1)}** | **${cost.toFixed(1)} %** (target ≤ 10 %) | ${median(cpuWith).toFixed(2)} / ${median(cpuWithout).toFixed(2)} | ${cpuCost.toFixed(1)} % |`,
  "",
  `Verification: ${perSecond.toFixed(0)} receipt signature checks per second on one core; ${(full / VERIFY_SECONDS).toFixed(1)} full public verifications (GET /v1/requests/{id}/verify's service) per second.`,
].join("\n");
const out = resultsFile("receipts");
// One section per engine: a PGlite run keeps the last PostgreSQL figures and vice versa.
const marker = (e: string) => `<!-- receipts-bench:${e} -->`;
const sections = new Map<string, string>();
for (const part of (existsSync(out) ? readFileSync(out, "utf8") : "").split(/(?=<!-- receipts-bench:)/)) {
  const key = /^<!-- receipts-bench:(\w+) -->/.exec(part)?.[1];
  if (key) sections.set(key, part.trimEnd());
}
sections.set(engine, `${marker(engine)}\n${table}`);
writeFileSync(
  out,
  `# Receipts bench (tooling/bench/receipts.ts)\n\n${["postgres", "pglite"].flatMap((e) => sections.get(e) ?? []).join("\n\n")}\n`,
);
console.log(`Written to ${out}`);
