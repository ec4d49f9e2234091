// The baseline the REST bridge is measured against: a plain node:http handler with postgres.js
// that runs the same SQL as POST /v1/requests and GET /v1/requests/{id} (key lookup, rate-limit
// upsert, routing reads, one INSERT … WITH statement; the status reads) and nothing else: no tRPC, no
// zod, no OpenAPI routing, no error formatting.
import { type IncomingMessage, type ServerResponse, createServer } from "node:http";
import {
  type DirectoryMember,
  type RoutableMatrix,
  type StageDefinition,
  findManager,
  must,
  hashApiKey,
  newId,
  parseBearer,
  resolveMatrix,
  resolveStageApprovers,
} from "@approvalmatrix/core";
import postgres from "postgres";

const { DATABASE_URL, PORT = "0", API_KEY_HASH_SECRET = "", POOL = "10" } = process.env;
const sql = postgres(must(DATABASE_URL, "DATABASE_URL"), { max: Number(POOL), onnotice: () => {} });

/** The key's own limit for a bucket, as the real server reads it (api-key-lookup.ts). */
const PERIOD_MS = 60_000;

async function authenticate(header: string | undefined, bucket: "create" | "status"): Promise<{ id: string; tenant_id: string } | null> {
  const key = parseBearer(header);
  if (!key) return null;
  const keyHash = hashApiKey(API_KEY_HASH_SECRET, key);
  const now = Date.now();
  const defaultLimit = bucket === "create" ? 60 : 120;
  const limit = sql`coalesce((api_keys.rate_limits ->> ${bucket}::text)::int, api_keys.rate_limit_per_minute, ${defaultLimit}::int)`;
  const conforms = sql`greatest(rate_limit_buckets.tat, ${now}::float8) + excluded.interval_ms - ${now}::float8 <= ${PERIOD_MS}::float8 + 1`;
  // The same single statement as the real server (api-key-lookup.ts): the lookup and, for a known
  // key, one GCRA step on its bucket (rate-limit/gcra-sql.ts).
  const [row] = await sql`with hit as (
      insert into rate_limit_buckets (bucket, tat, interval_ms, allowed)
      select ${`key:${keyHash.slice(0, 32)}:${bucket}`}::text, ${now}::float8 + ${PERIOD_MS}::float8 / ${limit},
        ${PERIOD_MS}::float8 / ${limit}, true
      from api_keys where key_hash = ${keyHash}
      on conflict (bucket) do update set
        tat = case when ${conforms} then greatest(rate_limit_buckets.tat, ${now}::float8) + excluded.interval_ms else rate_limit_buckets.tat end,
        allowed = ${conforms}, interval_ms = excluded.interval_ms
      returning allowed
    )
    select id, tenant_id, scopes, expires_at, revoked_at, disabled_at, last_used_at, (select allowed from hit) as allowed
    from api_keys where key_hash = ${keyHash} limit 1`;
  if (!row || row.revoked_at || row.disabled_at || !row.allowed) return null;
  return row as { id: string; tenant_id: string };
}

const memberColumns = sql`members.id, members.name, members.external_ref as "externalRef", members.department, members.manager_id as "managerId", members.active`;

async function create(tenantId: string, keyId: string, body: Record<string, unknown>) {
  const [[submitter], matrices] = await Promise.all([
    sql<
      (DirectoryMember & { default_currency: string })[]
    >`select ${memberColumns}, t.default_currency from members join tenants t on t.id = members.tenant_id where members.tenant_id = ${tenantId} and external_ref = ${String(body.submitterRef)} limit 1`,
    sql`select id, name, request_type as "requestType", min_amount as "minAmount", max_amount as "maxAmount", currency, conditions, priority, active, created_at as "createdAt" from matrices where tenant_id = ${tenantId} and request_type = ${String(body.requestType)} and active = true`,
  ]);
  if (!submitter) return { status: 422, body: { error: "unknown_submitter" } };
  const amount = typeof body.amount === "number" ? body.amount : null;
  const currency = amount === null ? null : submitter.default_currency;
  const resolution = resolveMatrix(matrices as unknown as RoutableMatrix[], {
    requestType: String(body.requestType),
    amount,
    currency,
    attributes: { department: submitter.department },
  });
  if (!resolution.matched) return { status: 422, body: { error: "no_matching_matrix" } };
  const matrix = resolution.matrix;
  const now = new Date();
  // The stages and, beside them, the delegations in force (the real server routes around people away).
  const [stageRows0, delegations] = await Promise.all([
    sql`select position, name, approvers, rule, quorum from matrix_stages where tenant_id = ${tenantId} and matrix_id = ${matrix.id} order by position`,
    sql<
      { member_id: string; delegate_id: string }[]
    >`select member_id, delegate_id from delegations where tenant_id = ${tenantId} and revoked_at is null and starts_at <= ${now} and (ends_at is null or ends_at > ${now}) order by created_at`,
  ]);
  const stages = stageRows0 as unknown as StageDefinition[];
  void delegations;
  const byId = new Map<string, DirectoryMember>([[submitter.id, submitter]]);
  const named = stages.flatMap((s) => (s.approvers.type === "members" ? s.approvers.memberIds : []));
  if (named.length)
    for (const m of await sql<
      DirectoryMember[]
    >`select ${memberColumns} from members where tenant_id = ${tenantId} and id in ${sql(named)}`)
      byId.set(m.id, m);
  if (submitter.managerId) {
    const [manager] = await sql<
      DirectoryMember[]
    >`select ${memberColumns} from members where tenant_id = ${tenantId} and id = ${submitter.managerId} limit 1`;
    if (manager) byId.set(manager.id, manager);
  }
  const directory = { byId: (id: string) => byId.get(id), inDepartment: () => [] };
  void findManager;
  const approverIds = stages.map((s) => {
    const r = resolveStageApprovers(s, submitter, directory);
    return r.ok ? r.approvers.map((m) => m.id) : [];
  });
  const id = newId("request");
  // The same single INSERT … WITH statement as the real server (services/submit-request.ts).
  const stageRows = stages.map((s, i) => ({
    position: s.position,
    name: s.name,
    rule: s.rule,
    quorum: s.quorum,
    approver_ids: must(approverIds[i]),
    status: i === 0 ? "open" : "waiting",
  }));
  // The outbox (events.ts, notifications): the two events of a submission and the first stage's e-mails.
  const eventData = {
    requestId: id,
    tenantId,
    status: "pending",
    stage: { position: 1, name: stages[0]?.name ?? "" },
    url: `/v1/requests/${id}`,
  };
  const events = ["approval_request.created", "approval_request.stage_opened"].map((type) => ({
    id: newId("event"),
    type,
    data: eventData,
  }));
  const messageRows = [...new Set(approverIds[0] ?? [])].map((memberId) => ({ id: newId("message"), member_id: memberId }));
  await sql`with new_request as (
      insert into requests (id, tenant_id, submitter_id, request_type, title, amount, currency, metadata, matrix_id, matrix_name, status, current_stage, total_stages, created_at, updated_at)
      values (${id}, ${tenantId}, ${submitter.id}, ${String(body.requestType)}, ${String(body.title)}, ${amount}, ${currency}, ${sql.json({})}, ${matrix.id}, ${matrix.name}, 'pending', 1, ${stages.length}, ${now}, ${now})
      returning id
    ), new_stages as (
      insert into request_stages (request_id, tenant_id, position, name, rule, quorum, approver_ids, status)
      select ${id}, ${tenantId}, s.position, s.name, s.rule, s.quorum, array(select jsonb_array_elements_text(s.approver_ids)), s.status
      from jsonb_to_recordset(${sql.json(stageRows)}::jsonb) as s(position integer, name text, rule text, quorum integer, approver_ids jsonb, status text)
      returning position
    ), new_events as (
      insert into events (id, tenant_id, type, api_version, data, created_at)
      select e.id, ${tenantId}, e.type, '2026-11-01', e.data, ${now}
      from jsonb_to_recordset(${sql.json(events)}::jsonb) as e(id text, type text, data jsonb)
      returning id
    ), new_messages as (
      insert into messages (id, tenant_id, member_id, kind, request_id, stage, data, status, attempts, next_attempt_at, created_at)
      select m.id, ${tenantId}, m.member_id, 'stage_opened', ${id}, 1, '{}'::jsonb, 'pending', 0, ${now}, ${now}
      from jsonb_to_recordset(${sql.json(messageRows)}::jsonb) as m(id text, member_id text)
      returning id
    )
    insert into audit_log (id, tenant_id, actor_type, actor_id, action, target_type, target_id, data)
    values (${newId("audit")}, ${tenantId}, 'api_key', ${keyId}, 'request.submitted', 'request', ${id}, ${sql.json({})})`;
  return {
    status: 201,
    body: {
      requestId: id,
      status: "pending",
      matrixId: matrix.id,
      matrixName: matrix.name,
      currentStage: 1,
      totalStages: stages.length,
      createdAt: now.toISOString(),
    },
  };
}

async function status(tenantId: string, requestId: string) {
  const [[request], stages, decisions] = await Promise.all([
    sql<
      { id: string; status: string; title: string; external_ref: string; current_stage: number | null; total_stages: number }[]
    >`select r.*, m.external_ref from requests r join members m on m.id = r.submitter_id where r.tenant_id = ${tenantId} and r.id = ${requestId} limit 1`,
    sql`select s.*, coalesce((select json_agg(json_build_object('id', m.id, 'ref', m.external_ref, 'name', m.name)) from members m where m.tenant_id = s.tenant_id and m.id = any(s.approver_ids)), '[]'::json) as approvers
      from request_stages s where s.tenant_id = ${tenantId} and s.request_id = ${requestId} order by s.position`,
    sql`select d.stage, d.approver_id, m.name, m.external_ref, d.decision, d.comment, d.decided_at from decisions d join members m on m.id = d.approver_id where d.tenant_id = ${tenantId} and d.request_id = ${requestId} order by d.decided_at, d.id`,
  ]);
  if (!request) return { status: 404, body: { error: "not_found" } };
  return {
    status: 200,
    body: {
      requestId: request.id,
      status: request.status,
      title: request.title,
      submitterRef: request.external_ref,
      currentStage: request.current_stage,
      totalStages: request.total_stages,
      decisions,
      stages,
    },
  };
}

const server = createServer((req, res) => {
  handle(req, res).catch((error: unknown) => {
    console.error(error);
    res.writeHead(500).end();
  });
});

async function handle(req: IncomingMessage, res: ServerResponse) {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const key = await authenticate(req.headers.authorization, req.method === "POST" ? "create" : "status");
  let result: { status: number; body: unknown };
  if (!key) result = { status: 401, body: { error: "unauthorized" } };
  else if (req.method === "POST" && req.url === "/v1/requests")
    result = await create(key.tenant_id, key.id, JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>);
  else if (req.method === "GET" && req.url?.startsWith("/v1/requests/"))
    result = await status(key.tenant_id, req.url.slice("/v1/requests/".length));
  else result = { status: 404, body: { error: "not_found" } };
  res.writeHead(result.status, { "Content-Type": "application/json" });
  res.end(JSON.stringify(result.body));
}

server.listen(Number(PORT), "127.0.0.1", () => {
  const address = server.address();
  console.log(`listening ${typeof address === "object" && address ? address.port : PORT}`);
});

// A clean exit on SIGTERM, so that a CPU profile (BENCH_PROFILE) is written.
process.on("SIGTERM", () => {
  server.close();
  void sql.end({ timeout: 1 }).then(() => process.exit(0));
});
