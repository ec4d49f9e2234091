/**
 * The /v1 and /trpc request pipeline: what reaches a procedure, in which order the checks run, and
 * what the server answers and logs when something is wrong. Each test names the hole it closes.
 */
import { RedisRateLimitStore, PostgresRateLimitStore } from "@approvalmatrix/api";
import { rateLimitBuckets, requests, sql } from "@approvalmatrix/db";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type TestApp, SEED_SUBMISSION, api, startTestApp, unlimitedKey } from "./harness";
import { hashApiKey, must } from "@approvalmatrix/core";

let app: TestApp;
let call: ReturnType<typeof api>;
let key: string;
beforeAll(async () => {
  app = await startTestApp();
  key = await unlimitedKey(app, "pipeline");
  call = api(app, key);
});
afterAll(() => app.close());

/** A tRPC call over HTTP, as @trpc/client's httpLink sends it (no transformer). */
async function trpc(path: string, input: unknown, opts: { key?: string | null; method?: "GET" | "POST" } = {}) {
  const method = opts.method ?? "POST";
  const bearer = opts.key === undefined ? key : opts.key;
  const url = method === "GET" ? `${app.url}/trpc/${path}?input=${encodeURIComponent(JSON.stringify(input))}` : `${app.url}/trpc/${path}`;
  const res = await fetch(url, {
    method,
    headers: { ...(bearer ? { Authorization: `Bearer ${bearer}` } : {}), "Content-Type": "application/json" },
    body: method === "POST" ? JSON.stringify(input) : undefined,
  });
  return { status: res.status, headers: res.headers, body: await res.json() };
}

function expectInvalid(res: { status: number; body: any; headers: Headers }, field: string) {
  expect(res.status, JSON.stringify(res.body)).toBe(400);
  expect(res.body.error.code).toBe("invalid_request");
  expect(res.body.error.requestId).toBe(res.headers.get("request-id"));
  expect(res.body.error.issues.map((i: { field: string }) => i.field)).toContain(field);
}

describe("query and body keys are data", () => {
  const names = ["constructor", "__proto__", "toString", "hasOwnProperty", "valueOf"];

  it("answers 400 naming an unknown query parameter, whatever its name (was 500 for Object.prototype's names)", async () => {
    for (const name of [...names, "limt"]) {
      expectInvalid(await call("GET", `/v1/requests?${name}=1`), name);
      expectInvalid(await call("GET", `/v1/requests/req_nope?${name}=1`), name);
    }
    // Without a key the answer is 401, never 500.
    for (const name of names) expect((await api(app, null)("GET", `/v1/requests?${name}=1`)).status).toBe(401);
  });

  it("names an unknown body field itself, stores metadata keys named like Object.prototype's, and refuses __proto__", async () => {
    expectInvalid(await call("POST", "/v1/requests", { ...SEED_SUBMISSION, constructor: 1 }), "constructor");
    const metadata = '{"constructor":"c","toString":"t","hasOwnProperty":1,"valueOf":[]}';
    const withMetadata = (json: string) => JSON.stringify(SEED_SUBMISSION).replace(/}$/, `,"metadata":${json}}`);
    const created = await call("POST", "/v1/requests", withMetadata(metadata));
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const read = await call("GET", `/v1/requests/${created.body.requestId}`);
    expect(read.body.metadata).toEqual(JSON.parse(metadata));
    // A copy would turn it into a prototype: refused rather than silently dropped.
    expectInvalid(await call("POST", "/v1/requests", withMetadata('{"__proto__":{"department":"Finance"}}')), "metadata.__proto__");
    const overTrpc = await trpc("requests.create", JSON.parse(withMetadata('{"__proto__":{"x":1}}')));
    expect(overTrpc.status).toBe(400);
  });
});

describe("text is well-formed Unicode", () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ["in the title", { ...SEED_SUBMISSION, title: "Q3 \udfff" }, "title"],
    ["in a metadata value", { ...SEED_SUBMISSION, metadata: { note: "a\ud83d" } }, "metadata.note"],
    ["in a metadata key", { ...SEED_SUBMISSION, metadata: { "k\udfff": 1 } }, "metadata"],
  ];

  it.each(cases)(
    "refuses a lone surrogate %s with 400 on create and dry-run, REST and tRPC, and stores nothing",
    async (_n, body, field) => {
      const before = await app.deps.db.$count(requests);
      // JSON.stringify escapes a lone surrogate as \udfff: the body on the wire is plain ASCII JSON.
      expectInvalid(await call("POST", "/v1/requests", body), field);
      expectInvalid(await call("POST", "/v1/requests/test", body), field);
      const overTrpc = await trpc("requests.create", body);
      expect(overTrpc.status).toBe(400);
      expect(overTrpc.body.error.data.apiCode).toBe("invalid_request");
      expect(await app.deps.db.$count(requests)).toBe(before);
    },
  );

  it("keeps surrogate pairs (emoji) intact", async () => {
    const created = await call("POST", "/v1/requests", { ...SEED_SUBMISSION, title: "Party 🎉", metadata: { "😀": "😀" } });
    expect(created.status).toBe(201);
    const read = await call("GET", `/v1/requests/${created.body.requestId}`);
    expect(read.body.title).toBe("Party 🎉");
    expect(read.body.metadata).toEqual({ "😀": "😀" });
  });

  it("refuses a body that is not valid UTF-8 (400 invalid_json), instead of storing U+FFFD", async () => {
    const bytes = Buffer.concat([
      Buffer.from('{"submitterRef":"EMP-1042","requestType":"purchase_order","title":"a'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('"}'),
    ]);
    const res = await fetch(`${app.url}/v1/requests`, {
      method: "POST",
      headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
      body: bytes,
    });
    expect(res.status).toBe(400);
    expect((await res.json()).error.code).toBe("invalid_json");
  });
});

describe("numbers are not coerced", () => {
  it.each([["1e3"], [""], [true], [[]], ["12"], [{}]])("refuses amount %j in a JSON body (400), on create and dry-run", async (amount) => {
    expectInvalid(await call("POST", "/v1/requests", { ...SEED_SUBMISSION, amount }), "amount");
    expectInvalid(await call("POST", "/v1/requests/test", { ...SEED_SUBMISSION, amount }), "amount");
  });

  it("still refuses a string amount over tRPC after a REST call has coerced a query parameter", async () => {
    const page = await call("GET", "/v1/requests?limit=10");
    expect(page.status).toBe(200);
    const created = await trpc("requests.create", { ...SEED_SUBMISSION, amount: "12" });
    expect(created.status).toBe(400);
    expect(created.body.error.data.issues.map((i: { field: string }) => i.field)).toEqual(["amount"]);
    const list = await trpc("requests.list", { limit: "10" }, { method: "GET" });
    expect(list.status).toBe(400);
  });

  it("reads query numbers only from canonical decimal text", async () => {
    expect((await call("GET", "/v1/requests?limit=2")).body.data.length).toBeLessThanOrEqual(2);
    for (const limit of ["1e1", "0x10", " 5", "5.", "+5", "05", ""]) {
      const res = await call("GET", `/v1/requests?limit=${encodeURIComponent(limit)}`);
      if (limit === "") continue; // an empty parameter is absent: the default applies
      expectInvalid(res, "limit");
    }
  });
});

describe("authentication and the rate limit run before the body is read", () => {
  const noKey = () => api(app, null);

  it("answers 401 to a call without a valid key whatever its body: broken JSON, wrong type, oversized", async () => {
    for (const bearer of [null, "apx_live_" + "B".repeat(32)]) {
      const c = api(app, bearer);
      expect((await c("POST", "/v1/requests", '{"submitterRef": ')).status).toBe(401);
      expect((await c("POST", "/v1/requests", "title=x", { "Content-Type": "text/plain" })).status).toBe(401);
      expect((await c("POST", "/v1/requests", { ...SEED_SUBMISSION, metadata: { blob: "x".repeat(200_000) } })).status).toBe(401);
    }
  });

  it("counts a call with a broken body against the key, and says so in the headers", async () => {
    const limited = await app.operator(app.demoTenantId).admin.apiKeys.create({
      name: "counted",
      scopes: ["requests:write", "requests:read"],
      rateLimitPerMinute: 50,
    });
    const c = api(app, limited.key);
    const broken = await c("POST", "/v1/requests", '{"submitterRef": ');
    expect(broken.status).toBe(400);
    expect(broken.body.error.code).toBe("invalid_json");
    const wrongType = await c("POST", "/v1/requests", "x", { "Content-Type": "text/plain" });
    expect(wrongType.status).toBe(415);
    const big = await c("POST", "/v1/requests", { ...SEED_SUBMISSION, metadata: { blob: "x".repeat(200_000) } });
    expect(big.status).toBe(413);
    const remaining = [broken, wrongType, big].map((r) => Number(r.headers.get("x-ratelimit-remaining")));
    // A minute boundary may fall between two calls; otherwise each one took one from the budget.
    if (must(remaining[0]) > must(remaining[2])) expect(remaining).toEqual([49, 48, 47]);
    for (const r of [broken, wrongType, big]) expect(r.headers.get("x-ratelimit-limit")).toBe("50");
    // A call that reaches the procedure is counted once: the key middleware reuses the REST
    // handler's authentication instead of looking the key up and counting again.
    const first = Number((await c("GET", "/v1/requests?limit=1")).headers.get("x-ratelimit-remaining"));
    const second = Number((await c("GET", "/v1/requests?limit=1")).headers.get("x-ratelimit-remaining"));
    if (second < first) expect(first - second).toBe(1);
  });

  it("puts rate-limit headers on 401s (the caller's address budget for failed authentications)", async () => {
    const res = await noKey()("GET", "/v1/requests");
    expect(res.status).toBe(401);
    expect(res.headers.get("x-ratelimit-limit")).toBe("100");
    expect(Number(res.headers.get("x-ratelimit-remaining"))).toBeLessThan(100);
    expect(Number(res.headers.get("x-ratelimit-reset"))).toBeGreaterThan(Date.now() / 1000);
  });
});

describe("wrong method on an existing path", () => {
  it("answers 405 with Allow and the error object; an unknown path stays 404", async () => {
    const put = await call("PUT", "/v1/requests", SEED_SUBMISSION);
    expect(put.status).toBe(405);
    expect(put.body.error.code).toBe("method_not_allowed");
    expect(put.body.error.requestId).toBe(put.headers.get("request-id"));
    expect(put.headers.get("allow")).toBe("POST, GET");
    const del = await call("DELETE", "/v1/requests/req_abc");
    expect(del.status).toBe(405);
    expect(del.headers.get("allow")).toBe("GET");
    const getTest = await call("GET", "/v1/requests/test/");
    // /requests/test is also /requests/{requestId}: GET on it reads a request named "test".
    expect(getTest.status).toBe(404);
    expect(getTest.body.error.code).toBe("not_found");
    const unknown = await call("GET", "/v1/nothing-here");
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe("not_found");
    expect(unknown.headers.get("x-ratelimit-remaining")).toMatch(/^\d+$/);
  });
});

describe("unknown keys leave no rate-limit counters", () => {
  /**
   * The buckets a key would have (`key:<its hash>:<bucket>`), whichever store keeps them. Looked up
   * by the junk keys' own hashes, not by counting every key bucket: other tests' buckets may expire
   * meanwhile (a Redis TTL, the purge), which a count would mistake for a change.
   */
  async function bucketsOf(presented: string): Promise<number> {
    const prefix = `key:${hashApiKey(app.deps.apiKeyHashSecret, presented).slice(0, 32)}:`;
    const store = app.deps.rateLimiter.store;
    if (store instanceof PostgresRateLimitStore) {
      return app.deps.db.$count(rateLimitBuckets, sql`${rateLimitBuckets.bucket} like ${`${prefix}%`}`);
    }
    if (store instanceof RedisRateLimitStore) {
      const internals = store as unknown as { redis: { keys(p: string): Promise<string[]> }; keyPrefix: string };
      return (await internals.redis.keys(`${internals.keyPrefix}rl:${prefix}*`)).length;
    }
    const tats = (store as unknown as { tats: Map<string, unknown> }).tats;
    return [...tats.keys()].filter((k) => k.startsWith(prefix)).length;
  }

  it("counts 60 junk keys on one per-address bucket, not on 60 new ones", async () => {
    const junkKeys = Array.from({ length: 60 }, (_, i) => `apx_live_${String(i).padStart(32, "Z")}`);
    for (const junk of junkKeys) expect((await api(app, junk)("GET", "/v1/requests")).status).toBe(401);
    const buckets = await Promise.all(junkKeys.map(bucketsOf));
    expect(buckets.reduce((sum, n) => sum + n, 0)).toBe(0);
  });

  it("finds the bucket of a known key the same way (the check above can fail)", async () => {
    expect((await api(app, key)("GET", "/v1/requests")).status).toBe(200);
    expect(await bucketsOf(key)).toBeGreaterThan(0);
  });
});

describe("tRPC batches", () => {
  it("refuses a batch of more than 10 calls with 400 invalid_request", async () => {
    const paths = Array.from({ length: 11 }, () => "requests.get").join(",");
    const input = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [i, { requestId: "req_nope" }]));
    const res = await fetch(`${app.url}/trpc/${paths}?batch=1&input=${encodeURIComponent(JSON.stringify(input))}`, {
      headers: { Authorization: `Bearer ${key}` },
    });
    const body = await res.json();
    expect(res.status, JSON.stringify(body)).toBe(400);
    expect(body.error.data.apiCode).toBe("invalid_request");
  });

  it("reports the rate-limit state after the last call of a batch", async () => {
    const limited = await app
      .operator(app.demoTenantId)
      .admin.apiKeys.create({ name: "batch", scopes: ["requests:read"], rateLimitPerMinute: 40 });
    const n = 10;
    const paths = Array.from({ length: n }, () => "requests.list").join(",");
    const input = Object.fromEntries(Array.from({ length: n }, (_, i) => [i, { limit: 1 }]));
    const res = await fetch(`${app.url}/trpc/${paths}?batch=1&input=${encodeURIComponent(JSON.stringify(input))}`, {
      headers: { Authorization: `Bearer ${limited.key}` },
    });
    expect(res.status).toBe(200);
    const remaining = Number(res.headers.get("x-ratelimit-remaining"));
    // Every call counted; the header shows what is left after all of them (a window may roll over).
    if (remaining < 40 - 1) expect(remaining).toBe(40 - n);
  });
});

describe("logs of a server error", () => {
  it("carry the Request-Id and none of the request's data", async () => {
    const logged: { fields: Record<string, unknown>; message: string }[] = [];
    const spy = vi.spyOn(app.running.logger, "error").mockImplementation(((fields: Record<string, unknown>, message: string) => {
      logged.push({ fields, message });
    }) as never);
    await app.deps.db.execute(sql`alter table audit_log rename to audit_log_away`);
    try {
      const secret = "s3cret-metadata-value";
      const res = await call("POST", "/v1/requests", { ...SEED_SUBMISSION, title: "Confidential title", metadata: { note: secret } });
      expect(res.status).toBe(500);
      expect(res.body.error.code).toBe("internal_error");
      const requestId = must(res.headers.get("request-id"));
      expect(res.body.error.requestId).toBe(requestId);
      // One structured line: the Request-Id as a field, the error chain (class, message, SQL text, frames) as text.
      const internal = logged.filter((l) => l.message === "internal error");
      expect(internal).toHaveLength(1);
      expect(must(internal[0]).fields.requestId).toBe(requestId);
      const text = JSON.stringify(logged);
      expect(text).toContain("audit_log");
      expect(text).not.toContain(secret);
      expect(text).not.toContain("Confidential title");
      expect(text).not.toContain("EMP-1042");
    } finally {
      spy.mockRestore();
      await app.deps.db.execute(sql`alter table audit_log_away rename to audit_log`);
    }
  });
});
