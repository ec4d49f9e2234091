/**
 * Every /v1 operation's answers against the OpenAPI document the server publishes (issue 13). The
 * server runs with output validation off (VALIDATE_OUTPUT=false), as production does, so what is
 * checked is what production sends: for each operation of /v1/openapi.json at least one real call
 * that succeeds, plus documented error answers, each body validated with Ajv (JSON Schema 2020-12,
 * OpenAPI 3.1's dialect) against the schema the document gives for that status, and each declared
 * header checked. Objects are closed for the check: with nothing stripping them any more, a field
 * the document does not name would reach clients unannounced. An operation with no validated call
 * fails the last test, so a new endpoint cannot slip by.
 */
import { appRouter, skipOutputValidation } from "@approvalmatrix/api";
import { type TestReceiver, startReceiver } from "@approvalmatrix/api/testing/webhook-receiver";
import { must } from "@approvalmatrix/core";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020";
import addFormats from "ajv-formats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SEED_PURCHASE_ORDER, api, demoAppForFile, unlimitedKey } from "./harness";

type Json = Record<string, unknown>;
type Answer = Awaited<ReturnType<ReturnType<typeof api>>>;

const HTTP_METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
const DOC_ID = "https://approvalmatrix.invalid/v1/openapi.json";

const demo = demoAppForFile({ VALIDATE_OUTPUT: "false", WEBHOOK_ALLOW_LOOPBACK: "true", WORKER: "off" });
let doc: Json;
let ajv: Ajv2020;
let key: string;
let receiver: TestReceiver | undefined;
/** "get /requests/{requestId}" for every operation a successful answer was validated for. */
const covered = new Set<string>();
/** One compiled validator per operation and status. */
const validators = new Map<string, ValidateFunction>();

/** "post /requests" for every operation of the document. */
export function documentOperations(document: Json): string[] {
  return Object.entries((document.paths as Record<string, Json> | undefined) ?? {}).flatMap(([path, item]) =>
    Object.keys(item)
      .filter((method) => HTTP_METHODS.includes(method))
      .map((method) => `${method} ${path}`),
  );
}

/**
 * Closes every object schema that lists its properties and says nothing of others: zod's output
 * parse strips unknown keys, so with it off, only this check notices a field the document lacks.
 */
function closeObjects(node: unknown): void {
  if (Array.isArray(node)) return node.forEach(closeObjects);
  if (!node || typeof node !== "object") return;
  const schema = node as Json;
  if (schema.properties && typeof schema.properties === "object" && !("additionalProperties" in schema) && !("allOf" in schema)) {
    schema.additionalProperties = false;
  }
  for (const value of Object.values(schema)) closeObjects(value);
}

const pointer = (...tokens: string[]) => tokens.map((t) => encodeURIComponent(t.replace(/~/g, "~0").replace(/\//g, "~1"))).join("/");

/** The validator of one operation's answer with `status`, compiled from the document itself. */
function validatorFor(method: string, path: string, status: number): ValidateFunction {
  const id = `${method} ${path} ${status}`;
  let validate = validators.get(id);
  if (!validate) {
    validate = ajv.compile({
      $ref: `${DOC_ID}#/${pointer("paths", path, method, "responses", String(status), "content", "application/json", "schema")}`,
    });
    validators.set(id, validate);
  }
  return validate;
}

function newAjv(document: Json): Ajv2020 {
  const instance = new Ajv2020({ strict: false, allErrors: true });
  addFormats(instance);
  // OpenAPI's own keywords beside the schemas.
  instance.addVocabulary(["example", "discriminator", "xml", "externalDocs"]);
  instance.addSchema({ ...document, $id: DOC_ID });
  return instance;
}

/** A header's value as its declared schema types it (headers are strings on the wire). */
function headerMatches(value: string, schema: Json | undefined): boolean {
  switch (schema?.type) {
    case "integer":
      return /^-?\d+$/.test(value);
    case "number":
      return value.trim() !== "" && Number.isFinite(Number(value));
    case "boolean":
      return value === "true" || value === "false";
    default:
      return true;
  }
}

/** Validates an answer against the document; a success marks its operation covered. */
function conform(method: string, path: string, res: Answer): Answer {
  const operation = (doc.paths as Record<string, Record<string, Json>>)[path]?.[method];
  const label = `${method.toUpperCase()} ${path} → ${res.status} ${String(JSON.stringify(res.body)).slice(0, 400)}`;
  expect(operation, `${method.toUpperCase()} ${path} is in the document`).toBeDefined();
  const response = (must(operation).responses as Record<string, Json>)[String(res.status)];
  expect(response, `the document lists the status of ${label}`).toBeDefined();
  const content = (must(response).content as Record<string, unknown> | undefined)?.["application/json"];
  expect(content, `the document gives a JSON body for ${label}`).toBeDefined();
  expect(res.headers.get("content-type"), label).toMatch(/^application\/json/);
  const validate = validatorFor(method, path, res.status);
  validate(res.body);
  expect(validate.errors ?? [], label).toEqual([]);
  for (const [name, header] of Object.entries((must(response).headers as Record<string, Json> | undefined) ?? {})) {
    const value = res.headers.get(name);
    if (header.required === true) expect(value, `${label}: required header ${name}`).not.toBeNull();
    if (value !== null) expect(headerMatches(value, header.schema as Json | undefined), `${label}: ${name}: ${value}`).toBe(true);
  }
  if (res.status < 300) covered.add(`${method} ${path}`);
  return res;
}

interface CallOptions {
  params?: Record<string, string>;
  query?: string;
  body?: unknown;
  /** The bearer; the unlimited all-scopes key by default, null for none. */
  key?: string | null;
  headers?: Record<string, string>;
}

/** Calls one operation of the document by its path template and validates the answer. */
async function op(method: string, path: string, expected: number, options: CallOptions = {}): Promise<Answer> {
  const concrete = path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(must(options.params?.[name])));
  const bearer = options.key === undefined ? key : options.key;
  const res = await api(demo.app, bearer)(method.toUpperCase(), `/v1${concrete}${options.query ?? ""}`, options.body, options.headers);
  expect(res.status, `${method.toUpperCase()} ${concrete}: ${String(JSON.stringify(res.body)).slice(0, 400)}`).toBe(expected);
  return conform(method, path, res);
}

beforeAll(async () => {
  const res = await fetch(`${demo.app.url}/v1/openapi.json`);
  expect(res.status).toBe(200);
  const published = (await res.json()) as Json;
  expect(published.openapi).toMatch(/^3\.1\./);
  doc = structuredClone(published);
  closeObjects(doc);
  ajv = newAjv(doc);
  key = await unlimitedKey(demo.app, "conformance");
  receiver = await startReceiver();
});
afterAll(async () => {
  await receiver?.close();
});

describe("the checker", () => {
  it("runs against a server that does not validate outputs, as production runs", () => {
    // startApp removed every output parse already (VALIDATE_OUTPUT=false): none is left to remove.
    expect(skipOutputValidation(appRouter)).toBe(0);
  });

  it("holds successes to the headers the document requires", () => {
    const paths = doc.paths as Record<string, Record<string, { responses: Record<string, { headers: Record<string, Json> }> }>>;
    const headers = must(paths["/requests/{requestId}"]?.get?.responses["200"]).headers;
    for (const name of ["Request-Id", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"]) {
      expect(headers[name]?.required, name).toBe(true);
    }
    expect(headerMatches("42", { type: "integer" })).toBe(true);
    expect(headerMatches("4.2", { type: "integer" })).toBe(false);
    expect(headerMatches("yes", { type: "boolean" })).toBe(false);
  });

  it("lists every operation of the document, and reports the ones without a validated call", () => {
    const operations = documentOperations(doc);
    expect(operations.length).toBeGreaterThanOrEqual(36);
    const withExtra = { paths: { ...(doc.paths as Json), "/new-thing": { get: {}, post: {}, parameters: [] } } };
    const missing = documentOperations(withExtra).filter((o) => !new Set(operations).has(o));
    expect(missing).toEqual(["get /new-thing", "post /new-thing"]);
  });

  it("rejects a body off the schema: a wrong enum value, a missing field, a field the document does not name", async () => {
    const created = await op("post", "/requests", 201, { body: SEED_PURCHASE_ORDER });
    const real = (await op("get", "/requests/{requestId}", 200, { params: { requestId: created.body.requestId } })).body as Json;
    const validate = validatorFor("get", "/requests/{requestId}", 200);
    expect(validate(real)).toBe(true);
    const { title: _title, ...withoutTitle } = real;
    const wrong = { ...withoutTitle, status: "sort_of_approved", secretHash: "x" };
    expect(validate(wrong)).toBe(false);
    const found = (validate.errors ?? []).map((e) => `${e.instancePath} ${e.keyword}`);
    expect(found).toEqual(expect.arrayContaining(["/status enum", " required", " additionalProperties"]));
    // The error shape is held to its schema as well.
    const errorValidate = validatorFor("get", "/requests/{requestId}", 404);
    expect(errorValidate({ error: { code: "not_found", message: "x", requestId: "rid_1" } })).toBe(true);
    expect(errorValidate({ error: { code: "no_such_code", message: "x", requestId: "rid_1" } })).toBe(false);
    expect(errorValidate({ error: { code: "not_found", message: "x" } })).toBe(false);
  });
});

describe("requests, decisions, receipts", () => {
  it("answers every request operation as documented", async () => {
    await op("post", "/requests/test", 200, { body: SEED_PURCHASE_ORDER });
    const created = await op("post", "/requests", 201, { body: SEED_PURCHASE_ORDER, headers: { "Idempotency-Key": crypto.randomUUID() } });
    const requestId = created.body.requestId as string;
    await op("get", "/requests", 200, { query: "?limit=5" });
    await op("get", "/requests/{requestId}", 200, { params: { requestId } });
    await op("post", "/requests/{requestId}/decisions", 200, {
      params: { requestId },
      body: { approverRef: "EMP-2001", decision: "approved", comment: "fine" },
    });
    await op("post", "/requests/{requestId}/decisions", 200, {
      params: { requestId },
      body: { approverRef: "EMP-3001", decision: "approved" },
    });
    const verified = await op("get", "/requests/{requestId}/verify", 200, { params: { requestId } });
    expect(verified.body.valid).toBe(true);

    // The receipt a holder keeps, checked by anyone (no key), with its proof and checkpoint.
    const receipt = verified.body.receipts[0];
    const check = await op("post", "/receipts/verify", 200, {
      key: null,
      body: { envelope: receipt.envelope, proof: receipt.inclusionProof, checkpoint: verified.body.checkpoint.envelope },
    });
    expect(check.body.valid).toBe(true);
    await op("get", "/keys", 200, { key: null });

    const other = (await op("post", "/requests", 201, { body: SEED_PURCHASE_ORDER })).body.requestId as string;
    await op("post", "/requests/{requestId}/reassign", 200, {
      params: { requestId: other },
      body: { fromRef: "EMP-2001", toRef: "EMP-4001", reason: "Jane is away" },
    });
    await op("post", "/requests/{requestId}/cancel", 200, { params: { requestId: other }, body: { reason: "not needed" } });
    await op("get", "/events", 200, { query: "?limit=5" });
  });

  it("answers documented errors with the error shape", async () => {
    const requestId = (await op("post", "/requests", 201, { body: SEED_PURCHASE_ORDER })).body.requestId as string;
    await op("get", "/requests", 400, { query: "?limit=1000" });
    await op("post", "/requests", 400, { body: "{not json" });
    await op("get", "/requests/{requestId}", 401, { params: { requestId }, key: null });
    await op("get", "/requests/{requestId}", 401, { params: { requestId }, key: "apx_live_" + "x".repeat(32) });
    const readOnly = await demo.app.operator(demo.app.demoTenantId).admin.apiKeys.create({ name: "read only", scopes: ["requests:read"] });
    await op("post", "/requests", 403, { body: SEED_PURCHASE_ORDER, key: readOnly.key });
    await op("get", "/requests/{requestId}", 404, { params: { requestId: "req_doesnotexist" } });
    await op("post", "/requests", 413, { body: { ...SEED_PURCHASE_ORDER, title: "x".repeat(200_000) } });
    await op("post", "/requests", 415, { body: JSON.stringify(SEED_PURCHASE_ORDER), headers: { "Content-Type": "text/plain" } });
    await op("post", "/requests", 422, { body: { ...SEED_PURCHASE_ORDER, submitterRef: "EMP-NOBODY" } });
    await op("post", "/requests", 422, { body: { ...SEED_PURCHASE_ORDER, requestType: "no_such_type" } });
    await op("post", "/requests/{requestId}/cancel", 200, { params: { requestId }, body: { reason: "first" } });
    await op("post", "/requests/{requestId}/cancel", 409, { params: { requestId }, body: { reason: "again" } });
    const idempotencyKey = crypto.randomUUID();
    await op("post", "/requests/test", 200, { body: SEED_PURCHASE_ORDER, headers: { "Idempotency-Key": idempotencyKey } });
    const replayed = await op("post", "/requests/test", 200, { body: SEED_PURCHASE_ORDER, headers: { "Idempotency-Key": idempotencyKey } });
    expect(replayed.headers.get("idempotent-replayed")).toBe("true");
    await op("post", "/requests/test", 409, {
      body: { ...SEED_PURCHASE_ORDER, amount: 1 },
      headers: { "Idempotency-Key": idempotencyKey },
    });

    const slow = await demo.app.operator(demo.app.demoTenantId).admin.apiKeys.create({
      name: "one a minute",
      scopes: ["requests:read"],
      rateLimitPerMinute: 1,
    });
    await op("get", "/requests/{requestId}", 200, { params: { requestId }, key: slow.key });
    const limited = await op("get", "/requests/{requestId}", 429, { params: { requestId }, key: slow.key });
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
  });
});

describe("delegations", () => {
  it("answers every delegation operation as documented", async () => {
    const created = await op("post", "/delegations", 201, { body: { memberRef: "EMP-3001", delegateRef: "EMP-4001", reason: "Leave" } });
    await op("get", "/delegations", 200);
    await op("delete", "/delegations/{delegationId}", 200, { params: { delegationId: created.body.id } });
    await op("delete", "/delegations/{delegationId}", 404, { params: { delegationId: "dlg_doesnotexist" } });
    await op("post", "/delegations", 422, { body: { memberRef: "EMP-3001", delegateRef: "EMP-NOBODY" } });
  });
});

describe("API keys", () => {
  it("answers every key operation as documented", async () => {
    const created = await op("post", "/api-keys", 201, { body: { name: "conformance target", scopes: ["requests:read"] } });
    const id = created.body.id as string;
    await op("get", "/api-keys", 200);
    await op("patch", "/api-keys/{id}", 200, { params: { id }, body: { name: "renamed", rateLimits: { status: 7 } } });
    await op("post", "/api-keys/{id}/disable", 200, { params: { id }, body: {} });
    await op("post", "/api-keys/{id}/enable", 200, { params: { id }, body: {} });
    // One call with the key, so the usage has a day to show.
    await op("get", "/requests", 200, { key: created.body.key, query: "?limit=1" });
    await op("get", "/api-keys/{id}/usage", 200, { params: { id } });
    const rerolled = await op("post", "/api-keys/{id}/reroll", 201, { params: { id }, body: { grace: "1h" } });
    await op("patch", "/api-keys/{id}", 409, { params: { id }, body: { name: "too late" } });
    await op("post", "/api-keys/{id}/revoke", 200, { params: { id: rerolled.body.key.id }, body: {} });
    await op("post", "/api-keys/{id}/revoke", 404, { params: { id: "key_doesnotexist" }, body: {} });
  });
});

describe("webhook endpoints", () => {
  it("answers every endpoint operation as documented", async () => {
    const since = new Date(Date.now() - 60_000).toISOString();
    const created = await op("post", "/webhook-endpoints", 201, { body: { url: must(receiver).url, description: "conformance" } });
    const endpointId = created.body.id as string;
    await op("get", "/webhook-endpoints", 200);
    await op("get", "/webhook-endpoints/{endpointId}", 200, { params: { endpointId } });
    await op("patch", "/webhook-endpoints/{endpointId}", 200, {
      params: { endpointId },
      body: { description: "conformance, edited", eventTypes: ["approval_request.cancelled"] },
    });
    const ping = await op("post", "/webhook-endpoints/{endpointId}/test", 200, { params: { endpointId }, body: {} });
    expect(ping.body.success).toBe(true);
    const deliveries = await op("get", "/webhook-endpoints/{endpointId}/deliveries", 200, { params: { endpointId } });
    const deliveryId = must(deliveries.body.data[0]).id as string;
    await op("post", "/webhook-endpoints/{endpointId}/deliveries/{deliveryId}/resend", 200, {
      params: { endpointId, deliveryId },
      body: {},
    });
    await op("post", "/webhook-endpoints/{endpointId}/replay", 200, { params: { endpointId }, body: { since } });
    await op("post", "/webhook-endpoints/{endpointId}/rotate-secret", 200, {
      params: { endpointId },
      body: { previousSecretExpiresInSeconds: 60 },
    });
    await op("post", "/webhook-endpoints/{endpointId}/disable", 200, { params: { endpointId }, body: { reason: "maintenance" } });
    await op("post", "/webhook-endpoints/{endpointId}/enable", 200, { params: { endpointId }, body: {} });
    await op("delete", "/webhook-endpoints/{endpointId}", 200, { params: { endpointId } });
    await op("get", "/webhook-endpoints/{endpointId}", 404, { params: { endpointId } });
    await op("post", "/webhook-endpoints", 422, { body: { url: "http://10.0.0.1/hooks" } });
  });
});

describe("agent bootstrap", () => {
  it("answers the bootstrap operations as documented, without a key", async () => {
    const started = await op("post", "/bootstrap", 201, {
      key: null,
      body: { email: "conformance@acme.example", agentName: "Conformance agent", scopes: ["requests:read"] },
    });
    const { bootstrapId, pollSecret } = started.body as { bootstrapId: string; pollSecret: string };
    await op("get", "/bootstrap/{bootstrapId}/status", 200, { params: { bootstrapId }, key: pollSecret });
    await op("get", "/bootstrap/{bootstrapId}/status", 404, { params: { bootstrapId }, key: "bps_" + "x".repeat(32) });
    await op("post", "/bootstrap", 400, { key: null, body: { email: "not an address", agentName: "x", scopes: ["requests:read"] } });
  });
});

describe("coverage", () => {
  it("validated a successful answer of every operation in the document", () => {
    const missing = documentOperations(doc).filter((operation) => !covered.has(operation));
    expect(missing, "operations of /v1/openapi.json without a validated successful call in this file").toEqual([]);
    expect(covered.size).toBe(documentOperations(doc).length);
  });
});
