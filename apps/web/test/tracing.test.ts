// OpenTelemetry tracing of the compiled server (node dist/main.js, as production runs it), read by a
// real OTLP/HTTP receiver: spans of a REST call (HTTP > procedure > SQL) continuing the caller's
// traceparent, both OTLP encodings, and a server without OTEL_* that never loads the SDK.
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { must, randomBase62 } from "@approvalmatrix/core";
import { type TestDatabase, createTestDatabase } from "@approvalmatrix/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SEED_SUBMISSION, freePort } from "./harness";

const WEB = new URL("../", import.meta.url).pathname;
const RECORD_IMPORTS = join(WEB, "test", "fixtures", "record-imports.mjs");
const SPAN_KIND = { INTERNAL: 1, SERVER: 2, CLIENT: 3 } as const;

interface Received {
  path: string;
  contentType: string;
  body: Buffer;
}

interface OtlpValue {
  stringValue?: string;
  intValue?: number | string;
  boolValue?: boolean;
  doubleValue?: number;
}

interface ExportedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Record<string, string | number | boolean | undefined>;
  resource: Record<string, string | number | boolean | undefined>;
}

/** An OTLP/HTTP collector on a random port: keeps every POST, answers as a collector does. */
class OtlpReceiver {
  readonly received: Received[] = [];
  private server: Server | null = null;
  url = "";

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        const contentType = req.headers["content-type"] ?? "";
        this.received.push({ path: req.url ?? "", contentType, body: Buffer.concat(chunks) });
        // An empty ExportTraceServiceResponse in the request's own encoding.
        const json = contentType.startsWith("application/json");
        res.writeHead(200, { "Content-Type": json ? "application/json" : "application/x-protobuf" });
        res.end(json ? "{}" : undefined);
      });
    });
    await new Promise<void>((resolve) => must(this.server).listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(must(this.server).address() as AddressInfo).port}`;
  }

  /** Every span of the JSON exports so far, with its resource's attributes. */
  jsonSpans(): ExportedSpan[] {
    const spans: ExportedSpan[] = [];
    for (const request of this.received.filter((r) => r.contentType.startsWith("application/json"))) {
      const payload = JSON.parse(request.body.toString()) as {
        resourceSpans: {
          resource: { attributes: { key: string; value: OtlpValue }[] };
          scopeSpans: { spans: (Omit<ExportedSpan, "attributes" | "resource"> & { attributes: { key: string; value: OtlpValue }[] })[] }[];
        }[];
      };
      for (const resourceSpans of payload.resourceSpans) {
        const resource = attributeMap(resourceSpans.resource.attributes);
        for (const scope of resourceSpans.scopeSpans)
          for (const span of scope.spans) spans.push({ ...span, attributes: attributeMap(span.attributes), resource });
      }
    }
    return spans;
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

function attributeMap(attributes: { key: string; value: OtlpValue }[]): ExportedSpan["attributes"] {
  return Object.fromEntries(
    attributes.map(({ key, value }) => [
      key,
      value.stringValue ?? (value.intValue !== undefined ? Number(value.intValue) : (value.boolValue ?? value.doubleValue)),
    ]),
  );
}

interface ServerProcess {
  url: string;
  key: string;
  /** The server's JSON log lines so far. */
  logs(): Record<string, unknown>[];
  /** Every @opentelemetry module the process resolved (fixtures/record-imports.mjs). */
  openTelemetryImports(): string[];
  /** SIGTERM: the graceful shutdown, which exports the buffered spans. Resolves with the exit code. */
  stop(): Promise<number | null>;
}

let database: TestDatabase | null = null;
let dataDir: string;
const receiver = new OtlpReceiver();

/** The compiled server with `otel` added to a clean environment (no OTEL_* inherited), on the file's database. */
async function startServer(otel: Record<string, string>): Promise<ServerProcess> {
  const importsFile = join(dataDir, `imports-${randomBase62(6)}.txt`);
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith("OTEL_") && name !== "DATABASE_URL"),
  );
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, ["--import", RECORD_IMPORTS, join(WEB, "dist", "main.js")], {
    cwd: WEB,
    env: {
      ...inherited,
      // development: the seeded demo key is kept in DATA_DIR, where the test reads it.
      NODE_ENV: "development",
      LOG_FORMAT: "json",
      LOG_LEVEL: "info",
      HOST: "127.0.0.1",
      PORT: String(port),
      DATA_DIR: dataDir,
      ...(database?.target.kind === "postgres" ? { DATABASE_URL: database.target.url } : {}),
      SEED_DEMO: "true",
      API_KEY_HASH_SECRET: "tracing-test-hash-secret-0123456789abcdef",
      RECEIPT_SIGNING_SECRET: "tracing-test-receipt-secret-0123456789abcdef",
      RECORD_IMPORTS_FILE: importsFile,
      ...otel,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    const onExit = (code: number | null, signal: string | null) => reject(new Error(`the server exited (${code ?? signal}):\n${output}`));
    child.once("exit", onExit);
    const poll = setInterval(() => {
      if (!output.includes('"msg":"ApprovalMatrix is running"')) return;
      clearInterval(poll);
      child.off("exit", onExit);
      resolve();
    }, 50);
  });
  return {
    url: `http://127.0.0.1:${port}`,
    key: readFileSync(join(dataDir, "demo-api-key"), "utf8").trim(),
    logs: () =>
      output
        .split("\n")
        .filter((line) => line.startsWith("{"))
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    openTelemetryImports: () => (existsSync(importsFile) ? readFileSync(importsFile, "utf8").split("\n").filter(Boolean) : []),
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve(child.exitCode);
        child.once("exit", (code) => resolve(code));
        child.kill("SIGTERM");
      }),
  };
}

function createRequest(server: ServerProcess, title: string, headers: Record<string, string> = {}) {
  return fetch(`${server.url}/v1/requests`, {
    method: "POST",
    headers: { Authorization: `Bearer ${server.key}`, "Content-Type": "application/json", ...headers },
    body: JSON.stringify({ ...SEED_SUBMISSION, title }),
  });
}

/** A W3C traceparent of a sampled caller span. */
function callerContext() {
  const traceId = randomBytes(16).toString("hex");
  const spanId = randomBytes(8).toString("hex");
  return { traceId, spanId, traceparent: `00-${traceId}-${spanId}-01` };
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "apx-tracing-"));
  // PostgreSQL when TEST_DATABASE_URL is set (a throwaway database); else the server's own PGlite in dataDir.
  if (process.env.TEST_DATABASE_URL) database = await createTestDatabase();
  await receiver.start();
});

afterAll(async () => {
  await receiver.close();
  await database?.destroy();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("tracing on (OTEL_EXPORTER_OTLP_ENDPOINT)", () => {
  it("exports HTTP > procedure > SQL spans over OTLP/HTTP JSON, continuing the caller's traceparent", async () => {
    const server = await startServer({
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_SERVICE_NAME: "approvalmatrix-test",
      OTEL_BSP_SCHEDULE_DELAY: "50",
    });
    const caller = callerContext();
    // A value that travels only as a query parameter: it must never reach a span.
    const title = `Traced purchase ${randomBase62(16)}`;
    let created: Response;
    let readId: string | null;
    try {
      created = await createRequest(server, title, { traceparent: caller.traceparent });
      expect(created.status).toBe(201);
      const { requestId } = (await created.json()) as { requestId: string };
      // No traceparent: a trace of its own. A probe: no span at all.
      const read = await fetch(`${server.url}/v1/requests/${requestId}`, { headers: { Authorization: `Bearer ${server.key}` } });
      expect(read.status).toBe(200);
      readId = read.headers.get("request-id");
      // A procedure that runs a transaction.
      const cancelled = await fetch(`${server.url}/v1/requests/${requestId}/cancel`, {
        method: "POST",
        headers: { Authorization: `Bearer ${server.key}`, "Content-Type": "application/json" },
        body: JSON.stringify({ reason: "No longer needed" }),
      });
      expect(cancelled.status).toBe(200);
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    } finally {
      expect(await server.stop()).toBe(0);
    }

    const spans = receiver.jsonSpans();
    expect(receiver.received.every((r) => r.path === "/v1/traces")).toBe(true);
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const ancestors = (span: ExportedSpan) => {
      const chain: ExportedSpan[] = [];
      for (let at = span.parentSpanId && byId.get(span.parentSpanId); at; at = at.parentSpanId && byId.get(at.parentSpanId)) chain.push(at);
      return chain;
    };

    // The HTTP server span: a child of the caller's span, in the caller's trace.
    const http = must(spans.find((s) => s.kind === SPAN_KIND.SERVER && s.traceId === caller.traceId));
    expect(http.parentSpanId).toBe(caller.spanId);
    expect(http.name).toBe("POST /v1/requests");
    expect(http.attributes).toMatchObject({
      "http.request.method": "POST",
      "http.route": "/v1/requests",
      "http.response.status_code": 201,
      "url.path": "/v1/requests",
      "url.scheme": "http",
      "approvalmatrix.request_id": created.headers.get("request-id"),
    });
    expect(http.resource["service.name"]).toBe("approvalmatrix-test");

    // The request's log line names its trace and span; the procedure span names the same tenant and key id.
    const line = must(server.logs().find((l) => l.msg === "request" && l.requestId === created.headers.get("request-id")));
    expect(line).toMatchObject({ trace_id: caller.traceId, span_id: http.spanId, keyId: expect.any(String), tenantId: expect.any(String) });

    const procedure = must(spans.find((s) => s.parentSpanId === http.spanId && s.kind === SPAN_KIND.INTERNAL));
    expect(procedure.name).toBe("requests.create");
    expect(procedure.attributes).toMatchObject({
      "rpc.system": "trpc",
      "rpc.method": "requests.create",
      "approvalmatrix.tenant_id": line.tenantId,
      "approvalmatrix.key_id": line.keyId,
    });

    // SQL below the procedure (some inside its transaction span), with the statement but no values.
    const sql = spans.filter((s) => s.traceId === caller.traceId && s.attributes["db.query.text"] !== undefined);
    const procedureSql = sql.filter((s) => ancestors(s).includes(procedure));
    expect(procedureSql.length).toBeGreaterThan(1);
    // The request row goes in with one statement: `with "new_request" as (insert into "requests" …) …`.
    const insert = must(procedureSql.find((s) => s.name === "INSERT requests"));
    expect(insert.kind).toBe(SPAN_KIND.CLIENT);
    expect(insert.attributes).toMatchObject({
      "db.system": "postgresql",
      "db.system.name": "postgresql",
      "db.operation.name": "INSERT",
      "db.query.summary": "INSERT requests",
    });
    expect(insert.attributes["db.query.text"]).toMatch(/insert into "requests"/);
    // Authentication and the rate limit (before the procedure on /v1) run under the HTTP span itself:
    // the key's lookup, and on PostgreSQL the rate-limit bucket.
    expect(sql.some((s) => s.parentSpanId === http.spanId)).toBe(true);
    expect(ancestors(insert).map((s) => s.spanId)).toEqual(expect.arrayContaining([procedure.spanId, http.spanId]));
    if (database?.target.kind === "postgres") {
      const url = new URL(database.target.url);
      expect(insert.attributes).toMatchObject({ "server.address": url.hostname, "db.namespace": url.pathname.slice(1) });
    }
    for (const statement of sql) expect(statement.attributes["db.query.text"]).not.toContain(title);

    // The second call started a trace of its own; the probe made no span; no statement is a root span (the worker's polling).
    const readSpan = must(spans.find((s) => s.attributes["approvalmatrix.request_id"] === readId));
    expect(readSpan.parentSpanId ?? "").toBe("");
    expect(readSpan.traceId).not.toBe(caller.traceId);
    expect(readSpan.attributes["http.route"]).toBe("/v1/requests/{requestId}");
    expect(spans.some((s) => s.attributes["url.path"] === "/healthz")).toBe(false);
    // Only requests make traces: the demo seed's procedure calls and the worker's SQL made no root span.
    expect(spans.filter((s) => s.kind !== SPAN_KIND.SERVER && !s.parentSpanId)).toEqual([]);

    // A transaction is a span of its own under the procedure, with its statements inside it.
    const cancel = must(spans.find((s) => s.name === "requests.cancel"));
    const transaction = must(spans.find((s) => s.parentSpanId === cancel.spanId && s.name === "transaction"));
    expect(transaction.attributes).toMatchObject({ "db.system": "postgresql", "db.operation.name": "transaction" });
    expect(spans.filter((s) => s.parentSpanId === transaction.spanId).map((s) => s.name)).toContain("UPDATE requests");

    // Never the key, nor the body, anywhere in what was exported.
    const exported = receiver.received.map((r) => r.body.toString()).join("\n");
    expect(exported).not.toContain(server.key);
    expect(exported).not.toContain(title);
    // The positive control of the test below: with tracing on, the SDK was loaded.
    expect(server.openTelemetryImports().some((url) => url.includes("/@opentelemetry/sdk-trace-node/"))).toBe(true);
  });

  it("sends OTLP/HTTP protobuf (the default protocol) to OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as given", async () => {
    receiver.received.length = 0;
    const server = await startServer({
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver.url}/custom/traces`,
      OTEL_BSP_SCHEDULE_DELAY: "50",
    });
    const caller = callerContext();
    try {
      expect((await createRequest(server, "Protobuf traced", { traceparent: caller.traceparent })).status).toBe(201);
    } finally {
      expect(await server.stop()).toBe(0);
    }
    expect(receiver.received.length).toBeGreaterThan(0);
    expect(receiver.received.every((r) => r.path === "/custom/traces" && r.contentType === "application/x-protobuf")).toBe(true);
    const body = Buffer.concat(receiver.received.map((r) => r.body));
    // Protobuf carries ids as raw bytes and names as UTF-8.
    expect(body.includes(Buffer.from(caller.traceId, "hex"))).toBe(true);
    expect(body.includes(Buffer.from(caller.spanId, "hex"))).toBe(true);
    for (const name of ["POST /v1/requests", "requests.create", "INSERT requests", "approvalmatrix"])
      expect(body.includes(Buffer.from(name))).toBe(true);
  });

  it("honours OTEL_TRACES_SAMPLER: parentbased_always_off traces only what a sampled caller asks for", async () => {
    receiver.received.length = 0;
    const server = await startServer({
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_TRACES_SAMPLER: "parentbased_always_off",
      OTEL_BSP_SCHEDULE_DELAY: "50",
    });
    const sampled = callerContext();
    let ownTrace: string | null;
    try {
      expect((await createRequest(server, "Sampled by the caller", { traceparent: sampled.traceparent })).status).toBe(201);
      const notSampled = await createRequest(server, "Not sampled");
      expect(notSampled.status).toBe(201);
      ownTrace = notSampled.headers.get("request-id");
    } finally {
      expect(await server.stop()).toBe(0);
    }
    const spans = receiver.jsonSpans();
    expect(spans.length).toBeGreaterThan(2);
    expect(new Set(spans.map((s) => s.traceId))).toEqual(new Set([sampled.traceId]));
    // The dropped trace still has an id, logged for correlation with the caller's own logs.
    const line = must(server.logs().find((l) => l.msg === "request" && l.requestId === ownTrace));
    expect(line.trace_id).toMatch(/^[0-9a-f]{32}$/);
  });
});

describe("tracing off (no OTEL_EXPORTER_OTLP_ENDPOINT)", () => {
  it("never loads the OpenTelemetry SDK, exports nothing and logs no trace id", async () => {
    receiver.received.length = 0;
    // OTEL_SERVICE_NAME alone does not turn tracing on.
    const server = await startServer({ OTEL_SERVICE_NAME: "approvalmatrix-test" });
    let requestId: string | null;
    try {
      const created = await createRequest(server, "Not traced", { traceparent: callerContext().traceparent });
      expect(created.status).toBe(201);
      requestId = created.headers.get("request-id");
    } finally {
      expect(await server.stop()).toBe(0);
    }
    expect(server.openTelemetryImports()).toEqual([]);
    expect(receiver.received).toEqual([]);
    const line = must(server.logs().find((l) => l.msg === "request" && l.requestId === requestId));
    expect(line).not.toHaveProperty("trace_id");
  });
});
