import { timingSafeEqual } from "node:crypto";
import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import {
  type ApiDeps,
  REST_PREFIX,
  SCIM_PREFIX,
  TRPC_PREFIX,
  buildOpenApiDocument,
  createRestHandler,
  createScimHandler,
  createTrpcHandler,
  sendRestError,
} from "@approvalmatrix/api";
import { newId } from "@approvalmatrix/core";
import { sql } from "@approvalmatrix/db";
import { sendDocsBundle, sendDocsPage } from "./docs-page";
import type { HttpObserver } from "./observability/http-observer";
import type { Logger } from "./observability/logger";
import type { AppMetrics } from "./observability/metrics";
import type { HttpTracer } from "./observability/tracing";
import { API_HEADERS } from "./web/security-headers";

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export interface AppServerOptions {
  /** Handles everything that is not the API (the admin app); a plain page when absent. */
  webHandler?: RequestHandler;
  /** Overrides of SERVER_TIMEOUTS (tests use short ones). */
  timeouts?: Partial<ServerTimeouts>;
}

/** What startApp adds: the request log and metrics, /metrics, and the draining state of a shutdown. */
export interface ServerInternals {
  observer: HttpObserver;
  logger: Logger;
  metrics: AppMetrics;
  /** /metrics on this port needs `Authorization: Bearer <token>`; null: not served on this port. */
  metricsToken: string | null;
  /** True once a shutdown began: /readyz answers 503 and responses close their connection. */
  draining: () => boolean;
  /** A span per request when tracing is on (observability/tracing.ts); null: requests are not wrapped. */
  tracer?: HttpTracer | null;
}

export interface ServerTimeouts {
  /** A client must have sent all request headers within this (slowloris). */
  headersTimeout: number;
  /** …and the whole request, body included, within this (a 50 MB member import fits). */
  requestTimeout: number;
  /** An idle keep-alive connection is closed after this; keep it above a proxy's own idle timeout. */
  keepAliveTimeout: number;
  /** How often Node checks the two limits above (its default, 30 s, lets them overrun that much). */
  connectionsCheckingInterval: number;
}

export const SERVER_TIMEOUTS: ServerTimeouts = {
  headersTimeout: 20_000,
  requestTimeout: 300_000,
  keepAliveTimeout: 65_000,
  connectionsCheckingInterval: 2_000,
};

/** How long one readiness check may take before it counts as failed. */
const READINESS_TIMEOUT_MS = 2_000;

/**
 * Readiness: each dependency a request needs, checked now: "ok", or "failed: " and the driver's
 * message (it names the failure and holds no secret).
 */
export async function checkReadiness(deps: ApiDeps): Promise<Record<string, string>> {
  const checks: Record<string, () => Promise<unknown>> = { database: () => deps.db.execute(sql`select 1`) };
  const store = deps.rateLimiter.store;
  if (store.ping) checks[store.name] = store.ping.bind(store);
  const results: Record<string, string> = {};
  await Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${READINESS_TIMEOUT_MS} ms`)), READINESS_TIMEOUT_MS);
      });
      try {
        await Promise.race([check(), timeout]);
        results[name] = "ok";
      } catch (error) {
        results[name] = `failed: ${error instanceof Error ? error.message : String(error)}`;
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  return results;
}

/**
 * The one Node process: /v1 (REST), /trpc, the OpenAPI document and docs page, and the admin
 * app. The API paths are matched first and touch nothing the admin app needs.
 */
export function createAppServer(deps: ApiDeps, options: AppServerOptions = {}, internals?: ServerInternals): Server {
  const rest = createRestHandler(deps);
  const trpc = createTrpcHandler(deps);
  const scim = createScimHandler(deps);
  const openApiJson = JSON.stringify(buildOpenApiDocument({ baseUrl: REST_PREFIX }));

  const route = async (req: IncomingMessage, res: ServerResponse, path: string) => {
    const isScim = path === SCIM_PREFIX || path.startsWith(`${SCIM_PREFIX}/`);
    const isApi = isScim || path === REST_PREFIX || path.startsWith(`${REST_PREFIX}/`) || path.startsWith(`${TRPC_PREFIX}/`);
    // JSON only: set before the handlers, whose own headers are added to these.
    if (isApi || path === "/healthz" || path === "/readyz")
      for (const [name, value] of Object.entries(API_HEADERS)) res.setHeader(name, value);
    if (path === `${REST_PREFIX}/openapi.json`) {
      res.writeHead(200, { "Content-Type": "application/json", "Access-Control-Allow-Origin": "*" });
      return void res.end(openApiJson);
    }
    if (path === REST_PREFIX || path.startsWith(`${REST_PREFIX}/`)) return rest(req, res);
    if (path.startsWith(`${TRPC_PREFIX}/`)) return trpc(req, res);
    if (isScim) return scim(req, res);
    if (path === "/docs" || path === "/docs/") return sendDocsPage(res);
    if (path === "/docs/scalar.js") return sendDocsBundle(res);
    // Liveness: the process answers. Cheap on purpose; dependencies are /readyz's job.
    if (path === "/healthz") {
      res.writeHead(200, { "Content-Type": "application/json" });
      return void res.end('{"ok":true}');
    }
    // Readiness: 503 (and which dependency failed) while the database or Redis does not answer,
    // and from the start of a graceful shutdown (proxies stop sending new requests here).
    if (path === "/readyz") {
      if (internals?.draining()) {
        res.writeHead(503, { "Content-Type": "application/json", "Cache-Control": "no-store" });
        return void res.end(JSON.stringify({ ok: false, draining: true, checks: {} }));
      }
      const checks = await checkReadiness(deps);
      const ok = Object.values(checks).every((c) => c === "ok");
      res.writeHead(ok ? 200 : 503, { "Content-Type": "application/json", "Cache-Control": "no-store" });
      return void res.end(JSON.stringify({ ok, checks }));
    }
    if (path === "/metrics" && internals?.metricsToken) return sendMetrics(req, res, internals.metrics, internals.metricsToken);
    if (options.webHandler) return options.webHandler(req, res);
    res.writeHead(path === "/" ? 200 : 404, { "Content-Type": "text/html; charset=utf-8" });
    res.end(
      `<!doctype html><title>ApprovalMatrix</title><h1>ApprovalMatrix</h1><p>API reference: <a href="/docs">/docs</a> · OpenAPI: <a href="/v1/openapi.json">/v1/openapi.json</a></p>`,
    );
  };

  const serve = (req: IncomingMessage, res: ServerResponse, path: string, requestId: string) => {
    Promise.resolve(route(req, res, path)).catch((error: unknown) => {
      if (internals) internals.logger.error({ requestId, err: error }, "unhandled error");
      else console.error(`[${requestId}] unhandled error on ${req.method} ${path}`, error);
      if (!res.headersSent)
        sendRestError(res, "internal_error", "An unexpected error occurred. Quote the requestId when you contact support.", requestId);
      else res.end();
    });
  };

  const timeouts = { ...SERVER_TIMEOUTS, ...options.timeouts };
  const tracer = internals?.tracer ?? null;
  const server = createServer({ connectionsCheckingInterval: timeouts.connectionsCheckingInterval }, (req, res) => {
    const [path = "/"] = (req.url ?? "/").split("?");
    const observation = internals ? internals.observer.begin(req, res, path) : null;
    const requestId = observation ? observation.requestId : newId("httpRequest");
    res.setHeader("Request-Id", requestId);
    // Draining: this answer is the connection's last, so the client's next request opens a new one elsewhere.
    if (internals?.draining()) res.setHeader("Connection", "close");
    // Tracing off (the default): one null check, no wrapper.
    if (tracer && observation) tracer.request(req, res, path, observation, () => serve(req, res, path, requestId));
    else serve(req, res, path, requestId);
  });
  server.headersTimeout = timeouts.headersTimeout;
  server.requestTimeout = timeouts.requestTimeout;
  server.keepAliveTimeout = timeouts.keepAliveTimeout;
  return server;
}

/** Prometheus text format, for a caller with the bearer token (compared in constant time). */
export async function sendMetrics(req: IncomingMessage, res: ServerResponse, metrics: AppMetrics, token: string | null): Promise<void> {
  if (token !== null) {
    const presented = Buffer.from(req.headers.authorization ?? "");
    const expected = Buffer.from(`Bearer ${token}`);
    if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) {
      res.writeHead(401, { "Content-Type": "application/json", "WWW-Authenticate": 'Bearer realm="metrics"' });
      return void res.end('{"error":{"code":"unauthorized","message":"/metrics needs Authorization: Bearer <METRICS_TOKEN>."}}');
    }
  }
  const { contentType, body } = await metrics.render();
  res.writeHead(200, { "Content-Type": contentType, "Cache-Control": "no-store" });
  res.end(body);
}

/** A server of /metrics alone (METRICS_PORT): for an internal network, so no token. */
export function createMetricsServer(metrics: AppMetrics): Server {
  return createServer((req, res) => {
    if ((req.url ?? "/").split("?")[0] !== "/metrics") {
      res.writeHead(404, { "Content-Type": "text/plain" });
      return void res.end("Not found: this port serves /metrics only.\n");
    }
    sendMetrics(req, res, metrics, null).catch(() => res.destroy());
  });
}

export function listen(server: Server, port: number, host: string): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      const address = server.address() as AddressInfo;
      const shownHost = host === "0.0.0.0" || host === "::" ? "localhost" : host;
      resolve(`http://${shownHost}:${address.port}`);
    });
  });
}
