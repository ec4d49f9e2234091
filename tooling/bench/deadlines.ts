/**
 * Deadlines at scale: how fast stages with deadlines are planned (submissions through the real
 * service, each planning its stage's reminder and deadline), and what the deadline sweep costs
 * with `--open` open requests: an idle sweep (nothing due: one index probe), and a sweep that acts
 * on `--due` of them (reminders written, audited, e-mailed).
 *
 *   pnpm bench:deadlines                                  # PGlite, 100 000 open requests
 *   TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres pnpm bench:deadlines
 *   … bench:deadlines --open 2000 --submit 200 --due 100  # a quick run
 */
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { MemoryRateLimitStore, RateLimiter, ReceiptSigner, createCaller, createTenant, runDueDeadlines } from "@approvalmatrix/api";
import { must, systemClock } from "@approvalmatrix/core";
import { sql } from "@approvalmatrix/db";
import { createTestDatabase, testDatabaseEngine } from "@approvalmatrix/db/testing";

const { values: args } = parseArgs({
  options: {
    open: { type: "string", default: "100000" },
    submit: { type: "string", default: "2000" },
    due: { type: "string", default: "1000" },
  },
});
const OPEN = Number(args.open);
const SUBMIT = Number(args.submit);
const DUE = Math.min(Number(args.due), OPEN);

const database = await createTestDatabase();
try {
  const db = database.db;
  const deps = {
    db,
    apiKeyHashSecret: "bench-secret-not-used",
    rateLimiter: new RateLimiter(new MemoryRateLimitStore()),
    maxBodyBytes: 100_000,
    clock: systemClock,
    receipts: new ReceiptSigner(db, "bench-receipt-signing-secret-not-kept-anywhere"),
  };
  await deps.receipts.ensureKeys();
  const tenant = await createTenant(db, { name: "Bench", slug: "bench" });
  const caller = createCaller({
    deps,
    requestId: "bench",
    authorization: null,
    credentialInQuery: false,
    response: { headers: {} },
    actor: { kind: "operator", tenantId: tenant.id },
  });
  await caller.admin.members.create({ externalRef: "MGR-1", name: "Manager One", email: "m1@bench.example" });
  await caller.admin.members.create({ externalRef: "APP-1", name: "Approver One", email: "a1@bench.example", managerRef: "MGR-1" });
  await caller.admin.members.create({ externalRef: "SUB-1", name: "Submitter One" });
  await caller.admin.matrices.create({
    name: "With deadline",
    requestType: "po",
    stages: [
      {
        name: "Review",
        approvers: { type: "members", memberRefs: ["APP-1"] },
        rule: "any",
        deadline: { dueIn: "48h", remindBefore: "24h", remindEvery: "12h", onDeadline: "escalate" },
      },
    ],
  });
  const key = await caller.admin.apiKeys.create({ name: "bench", scopes: ["requests:write"], rateLimitPerMinute: 1_000_000 });
  void key;

  // 1. Planning: submissions through the service, each planning its stage's deadline.
  const { submitRequest } = await import("../../packages/api/src/services/submit-request");
  const actor = { kind: "operator" as const, tenantId: tenant.id };
  let t = performance.now();
  for (let i = 0; i < SUBMIT; i++)
    await submitRequest(db, actor, { submitterRef: "SUB-1", requestType: "po", title: `PO ${i}`, amount: 10 });
  const planRate = SUBMIT / ((performance.now() - t) / 1000);

  // 2. Fill up to OPEN open requests by copying one (SQL), deadlines spread over the next 30 days.
  t = performance.now();
  const more = Math.max(0, OPEN - SUBMIT);
  await db.execute(sql`
    with src as (select * from requests where tenant_id = ${tenant.id} limit 1),
    ins as (
      insert into requests (id, tenant_id, submitter_id, request_type, title, amount, currency, metadata, matrix_id, matrix_name, status, current_stage, total_stages, created_at, updated_at)
      select 'req_bench' || g, tenant_id, submitter_id, request_type, title || g, amount, currency, metadata, matrix_id, matrix_name, status, current_stage, total_stages, now(), now()
      from src, generate_series(1, ${more}) g returning id)
    insert into request_stages (request_id, tenant_id, position, name, rule, quorum, approver_ids, status, delegated_from, deadline, due_at, next_action_at, next_action)
    select ins.id, s.tenant_id, s.position, s.name, s.rule, s.quorum, s.approver_ids, s.status, s.delegated_from, s.deadline,
      now() + interval '48 hours', now() + (random() * interval '30 days') + interval '1 hour', 'reminder'
    from ins, (select * from request_stages where tenant_id = ${tenant.id} limit 1) s`);
  const fillMs = performance.now() - t;

  // 3. The idle sweep: nothing due now (one probe of the partial index).
  const idle: number[] = [];
  for (let i = 0; i < 20; i++) {
    t = performance.now();
    await runDueDeadlines(db, new Date(Date.now() - 3_600_000), deps.receipts);
    idle.push(performance.now() - t);
  }
  idle.sort((a, b) => a - b);

  // 4. A sweep that acts: make DUE stages due now.
  await db.execute(sql`update request_stages set next_action_at = now() - interval '1 minute'
    where (request_id, position) in (select request_id, position from request_stages where tenant_id = ${tenant.id} and status = 'open' limit ${DUE})`);
  t = performance.now();
  const outcome = await runDueDeadlines(db, new Date(), deps.receipts);
  const actMs = performance.now() - t;

  console.log(`\nDeadlines on ${testDatabaseEngine()} with ${OPEN} open requests\n`);
  console.log("| Measure | Figure |");
  console.log("| --- | --- |");
  console.log(`| Planning (submissions with a deadline, one at a time) | ${planRate.toFixed(0)} stages/s |`);
  console.log(`| Filling ${more} more open requests (SQL) | ${(fillMs / 1000).toFixed(1)} s |`);
  console.log(`| Idle sweep (nothing due), p50 / max | ${must(idle[10]).toFixed(2)} / ${must(idle.at(-1)).toFixed(2)} ms |`);
  console.log(
    `| Sweep acting on ${DUE} due stages | ${actMs.toFixed(0)} ms (${(actMs / Math.max(1, outcome.reminders)).toFixed(2)} ms per reminder, ${outcome.reminders} sent) |`,
  );
} finally {
  await database.destroy();
}
