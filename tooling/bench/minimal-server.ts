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

async function authenticate(header: string | undefined): Promise<{ id: string; tenant_id: string } | null> {
  const key = parseBearer(header);
  if (!key) return null;
  const keyHash = hashApiKey(API_KEY_HASH_SECRET, key);
  const windowStart = Date.now() - (Date.now() % 60_000);
  // The same single statement as the real server (api-key-lookup.ts): the lookup and, for a known key, the hit.
  const [row] = await sql`with hit as (
      insert into rate_limit_counters (bucket, window_start, count)
      select ${`key:${keyHash.slice(0, 32)}`}::text, ${windowStart}::bigint, 1 from api_keys where key_hash = ${keyHash}
      on conflict (bucket) do update set count = case when rate_limit_counters.window_start = excluded.window_start then rate_limit_counters.count + 1 else 1 end, window_start = excluded.window_start
      returning count
    )
    select id, tenant_id, scopes, rate_limit_per_minute, expires_at, revoked_at, last_used_at, (select count from hit) as hits
    from api_keys where key_hash = ${keyHash} limit 1`;
  if (!row || row.revoked_at || row.hits > row.rate_limit_per_minute) return null;
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
  const stages =
    (await sql`select position, name, approvers, rule, quorum from matrix_stages where tenant_id = ${tenantId} and matrix_id = ${matrix.id} order by position`) as unknown as StageDefinition[];
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
  const now = new Date();
  // The same single INSERT … WITH statement as the real server (services/submit-request.ts).
  const stageRows = stages.map((s, i) => ({
    position: s.position,
    name: s.name,
    rule: s.rule,
    quorum: s.quorum,
    approver_ids: must(approverIds[i]),
    status: i === 0 ? "open" : "waiting",
  }));
  await sql`with new_request as (
      insert into requests (id, tenant_id, submitter_id, request_type, title, amount, currency, metadata, matrix_id, matrix_name, status, current_stage, total_stages, created_at, updated_at)
      values (${id}, ${tenantId}, ${submitter.id}, ${String(body.requestType)}, ${String(body.title)}, ${amount}, ${currency}, ${sql.json({})}, ${matrix.id}, ${matrix.name}, 'pending', 1, ${stages.length}, ${now}, ${now})
      returning id
    ), new_stages as (
      insert into request_stages (request_id, tenant_id, position, name, rule, quorum, approver_ids, status)
      select ${id}, ${tenantId}, s.position, s.name, s.rule, s.quorum, array(select jsonb_array_elements_text(s.approver_ids)), s.status
      from jsonb_to_recordset(${sql.json(stageRows)}::jsonb) as s(position integer, name text, rule text, quorum integer, approver_ids jsonb, status text)
      returning position
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
  const key = await authenticate(req.headers.authorization);
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
