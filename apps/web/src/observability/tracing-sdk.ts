// The OpenTelemetry SDK and the server's spans, loaded only when tracing is on (tracing.ts).
// Manual spans, no auto-instrumentation: one SERVER span per HTTP request, one per procedure call
// inside it, one CLIENT span per SQL statement (and per transaction) inside those.
import type { IncomingMessage } from "node:http";
import type { ProcedureCaller, ProcedureTracer } from "@approvalmatrix/api";
import type { DatabaseTarget, QueryTracer } from "@approvalmatrix/db";
import {
  type Attributes,
  type Span,
  DiagLogLevel,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  context,
  diag,
  propagation,
  trace,
} from "@opentelemetry/api";
import { OTLPTraceExporter as JsonExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { OTLPTraceExporter as ProtobufExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import {
  defaultResource,
  detectResources,
  envDetector,
  hostDetector,
  processDetector,
  resourceFromAttributes,
  serviceInstanceIdDetector,
} from "@opentelemetry/resources";
import { BatchSpanProcessor, NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import type { Logger } from "./logger";
import { fallbackRoute } from "./http-observer";
import type { Tracing } from "./tracing";

/** Longest `db.query.text` recorded; drizzle's statements are parameterised, so no values are in it. */
export const MAX_QUERY_TEXT = 2048;

const KNOWN_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"]);
/** Paths whose last segment is a credential (an e-mailed decision link, a password reset): traced as their template. */
const SECRET_PATHS = [
  ["/decide/", "/decide/{token}"],
  ["/reset-password/", "/reset-password/{token}"],
] as const;
/** Probes and scrapes: one span every few seconds per instance would drown the traces (as they would the log). */
const UNTRACED = new Set(["/healthz", "/readyz", "/metrics"]);

export function createTracing(settings: { url: string; protocol: "http/protobuf" | "http/json" }): Tracing {
  // Explicit URL (from the validated environment); headers, timeout and compression the exporter reads from OTEL_EXPORTER_OTLP_*.
  const exporter =
    settings.protocol === "http/json" ? new JsonExporter({ url: settings.url }) : new ProtobufExporter({ url: settings.url });
  // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (envDetector) override the defaults here.
  const resource = defaultResource()
    .merge(resourceFromAttributes({ "service.name": "approvalmatrix" }))
    .merge(detectResources({ detectors: [hostDetector, processDetector, serviceInstanceIdDetector, envDetector] }));
  // The sampler (OTEL_TRACES_SAMPLER, default parentbased_always_on), span limits and the batch
  // processor's OTEL_BSP_* settings come from the environment, as the SDK reads them.
  const provider = new NodeTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(exporter)] });
  // AsyncLocalStorage context and the W3C trace-context + baggage propagators.
  provider.register();
  const tracer = provider.getTracer("approvalmatrix");

  const http: Tracing["http"] = {
    request(req, res, path, observation, handle) {
      if (UNTRACED.has(path)) return handle();
      const parent = propagation.extract(ROOT_CONTEXT, req.headers);
      const rawMethod = req.method ?? "GET";
      const method = KNOWN_METHODS.has(rawMethod) ? rawMethod : "_OTHER";
      const span = tracer.startSpan(
        method,
        { kind: SpanKind.SERVER, attributes: requestAttributes(req, rawMethod, method, path, observation.requestId) },
        parent,
      );
      const ids = span.spanContext();
      observation.traceId = ids.traceId;
      observation.spanId = ids.spanId;
      let ended = false;
      const end = () => {
        if (ended) return;
        ended = true;
        const route = spanRoute(observation.route, path);
        if (route) {
          span.setAttribute("http.route", route);
          span.updateName(`${method} ${route}`);
        }
        if (res.writableFinished) {
          span.setAttribute("http.response.status_code", res.statusCode);
          // Server spans: a 4xx is the client's doing, not an error of this span.
          if (res.statusCode >= 500) {
            span.setAttribute("error.type", String(res.statusCode));
            span.setStatus({ code: SpanStatusCode.ERROR });
          }
        } else {
          // The client left (or the connection was cut) before the response was sent.
          span.setAttribute("error.type", "connection_closed");
        }
        span.end();
      };
      res.once("finish", end);
      res.once("close", end);
      context.with(trace.setSpan(parent, span), handle);
    },
  };

  const procedures: ProcedureTracer = {
    procedure(path, type, caller, run) {
      // Only inside a traced request, as for SQL: the demo seed and the jobs call procedures too.
      if (!insideRecordedSpan()) return run();
      return tracer.startActiveSpan(
        path,
        { kind: SpanKind.INTERNAL, attributes: { "rpc.system": "trpc", "rpc.method": path, "trpc.procedure.type": type } },
        async (span) => {
          try {
            const result = await run();
            if (!result.ok) procedureFailed(span, (result as { error?: unknown }).error);
            return result;
          } catch (error) {
            procedureFailed(span, error);
            throw error;
          } finally {
            span.setAttributes(callerAttributes(caller()));
            span.end();
          }
        },
      );
    },
  };

  const queries = (target: DatabaseTarget): QueryTracer => {
    const base = databaseAttributes(target);
    return {
      query(text, run) {
        // Only inside a traced request: the job worker's polling would otherwise make a root span per statement.
        if (!insideRecordedSpan()) return Promise.resolve(run());
        const parent = context.active();
        const { operation, summary } = describeStatement(text);
        const span = tracer.startSpan(
          summary,
          {
            kind: SpanKind.CLIENT,
            attributes: {
              ...base,
              "db.query.text": text.length > MAX_QUERY_TEXT ? text.slice(0, MAX_QUERY_TEXT) : text,
              "db.query.summary": summary,
              "db.operation.name": operation,
            },
          },
          parent,
        );
        return settle(span, run);
      },
      transaction(run) {
        if (!insideRecordedSpan()) return Promise.resolve(run());
        const parent = context.active();
        const span = tracer.startSpan(
          "transaction",
          { kind: SpanKind.CLIENT, attributes: { ...base, "db.operation.name": "transaction" } },
          parent,
        );
        // Active: the statements of the transaction are its children.
        return context.with(trace.setSpan(parent, span), () => settle(span, run));
      },
    };
  };

  return {
    url: settings.url,
    protocol: settings.protocol,
    http,
    procedures,
    queries,
    logFields(): Record<string, string> {
      // A new object each time: pino merges the line's own fields into it.
      const span = trace.getSpan(context.active());
      if (!span) return {};
      const ids = span.spanContext();
      return { trace_id: ids.traceId, span_id: ids.spanId };
    },
    reportTo(logger: Logger) {
      // Export failures (a collector down) as warnings in the server's own log; outside any span,
      // so the line does not carry the ids of whichever request happened to start the export timer.
      const warn = (message: string) => context.with(ROOT_CONTEXT, () => logger.warn({ component: "opentelemetry" }, message));
      diag.setLogger(
        { error: warn, warn, info: () => {}, debug: () => {}, verbose: () => {} },
        { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
      );
    },
    shutdown: () => provider.shutdown(),
  };
}

/**
 * True inside a span that is still recording: a request's, while it is being served and was sampled.
 * Not after it ended (a timer a request happened to start, such as a batched key-usage write, keeps
 * its async context), nor in a trace the sampler dropped (its children would be dropped too).
 */
function insideRecordedSpan(): boolean {
  return trace.getSpan(context.active())?.isRecording() === true;
}

function requestAttributes(req: IncomingMessage, rawMethod: string, method: string, path: string, requestId: string): Attributes {
  const attributes: Attributes = {
    "http.request.method": method,
    "url.path": safePath(path),
    "url.scheme": "encrypted" in req.socket && req.socket.encrypted ? "https" : "http",
    "network.protocol.version": req.httpVersion,
    "approvalmatrix.request_id": requestId,
  };
  if (method !== rawMethod) attributes["http.request.method_original"] = rawMethod;
  if (req.socket.remoteAddress) attributes["network.peer.address"] = req.socket.remoteAddress;
  const userAgent = req.headers["user-agent"];
  if (userAgent) attributes["user_agent.original"] = userAgent;
  return attributes;
}

function safePath(path: string): string {
  for (const [prefix, template] of SECRET_PATHS) if (path.startsWith(prefix)) return template;
  return path;
}

/** The route template: what the API handlers named, else the server's own label when it is a path (not "(admin)"). */
function spanRoute(route: string | undefined, path: string): string | null {
  if (route) return route;
  const safe = safePath(path);
  if (safe !== path) return safe;
  const fallback = fallbackRoute(path);
  return fallback.startsWith("/") ? fallback : null;
}

function callerAttributes(caller: ProcedureCaller): Attributes {
  const attributes: Attributes = {};
  if (caller.tenantId) attributes["approvalmatrix.tenant_id"] = caller.tenantId;
  if (caller.keyId) attributes["approvalmatrix.key_id"] = caller.keyId;
  if (caller.userId) attributes["approvalmatrix.user_id"] = caller.userId;
  return attributes;
}

/** A refused call names its tRPC code; only an internal error marks the span failed (as a 5xx does its HTTP span). */
function procedureFailed(span: Span, error: unknown): void {
  const code = (error as { code?: unknown } | undefined)?.code;
  const type = typeof code === "string" ? code : error instanceof Error ? error.name : "unknown";
  span.setAttribute("error.type", type);
  if (type === "INTERNAL_SERVER_ERROR" || typeof code !== "string") span.setStatus({ code: SpanStatusCode.ERROR, message: type });
}

function databaseAttributes(target: DatabaseTarget): Attributes {
  const attributes: Attributes = { "db.system": "postgresql", "db.system.name": "postgresql" };
  if (target.kind === "postgres") {
    // Host, port and database name only: never the URL (it may carry the password).
    const url = new URL(target.url);
    attributes["server.address"] = url.hostname;
    attributes["server.port"] = Number(url.port || 5432);
    const database = decodeURIComponent(url.pathname.slice(1));
    if (database) attributes["db.namespace"] = database;
  }
  return attributes;
}

async function settle<T>(span: Span, run: () => PromiseLike<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    // PostgreSQL's SQLSTATE (23505 unique_violation…); never the message, which may quote values.
    const code = (error as { code?: unknown }).code;
    if (typeof code === "string") span.setAttribute("db.response.status_code", code);
    span.setAttribute("error.type", typeof code === "string" ? code : error instanceof Error ? error.name : "unknown");
    span.setStatus({ code: SpanStatusCode.ERROR });
    throw error;
  } finally {
    span.end();
  }
}

const TABLE_AFTER: Record<string, RegExp> = {
  SELECT: /\bfrom\s+"?([\w.]+)"?/i,
  INSERT: /^\s*insert\s+into\s+"?([\w.]+)"?/i,
  UPDATE: /^\s*update\s+"?([\w.]+)"?/i,
  DELETE: /^\s*delete\s+from\s+"?([\w.]+)"?/i,
};

/**
 * The operation and a low-cardinality name for a statement: the operation and the first table it
 * names (drizzle quotes table names), best effort. A `with … as (insert …)` is named by the
 * statement inside its first common table expression.
 */
export function describeStatement(text: string): { operation: string; summary: string } {
  let body = text;
  let operation = /^\s*([a-z]+)/i.exec(body)?.[1]?.toUpperCase() ?? "SQL";
  if (operation === "WITH") {
    const inner = /\bas\s*\(\s*(select|insert|update|delete)\b/i.exec(body);
    if (inner?.[1]) {
      operation = inner[1].toUpperCase();
      body = body.slice(inner.index + inner[0].length - inner[1].length);
    }
  }
  const table = TABLE_AFTER[operation]?.exec(body)?.[1];
  return { operation, summary: table ? `${operation} ${table}` : operation };
}
