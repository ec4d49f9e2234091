import type { IncomingMessage, ServerResponse } from "node:http";
import { type RequestObservation, startObservation } from "@approvalmatrix/api";
import { newId } from "@approvalmatrix/core";
import { type Logger, requestLineLogger } from "./logger";
import type { AppMetrics } from "./metrics";

/** The route label of what the API handlers do not name themselves. */
export function fallbackRoute(path: string): string {
  if (path === "/healthz" || path === "/readyz" || path === "/metrics" || path === "/docs" || path === "/docs/scalar.js") return path;
  if (path === "/v1/openapi.json") return path;
  if (path.startsWith("/assets/")) return "/assets/*";
  return "(admin)";
}

export interface HttpObserver {
  /** Called when a request arrives: gives it a Request-Id and an observation the handlers fill in. */
  begin(req: IncomingMessage, res: ServerResponse, path: string): RequestObservation;
  inFlight(): number;
}

/**
 * One log line and one metrics sample per request, written when its response ends (or the client
 * goes away: status 499). The line names the Request-Id, tenant, key id or user id, route template,
 * status and latency; never a header, a query string or a body.
 */
export function createHttpObserver(processLogger: Logger, metrics: AppMetrics | null): HttpObserver {
  const logger = requestLineLogger(processLogger);
  let inFlight = 0;
  return {
    inFlight: () => inFlight,
    begin(req, res, path) {
      const started = performance.now();
      const observation = startObservation(req, newId("httpRequest"));
      inFlight++;
      let done = false;
      const end = () => {
        if (done) return;
        done = true;
        inFlight--;
        const ms = performance.now() - started;
        const status = res.writableFinished ? res.statusCode : 499;
        const route = observation.route ?? fallbackRoute(path);
        const method = req.method ?? "GET";
        metrics?.recordHttp({ method, route, status, seconds: ms / 1000, rateLimited: observation.rateLimited });
        // Probes and scrapes would drown the log: they are counted in the metrics only.
        if (route === "/healthz" || route === "/readyz" || route === "/metrics") return;
        const level = status >= 500 ? "error" : "info";
        if (!logger.isLevelEnabled(level)) return;
        const line: Record<string, unknown> = {
          requestId: observation.requestId,
          method,
          route,
          status,
          latencyMs: Math.round(ms * 100) / 100,
          ...(observation.tenantId ? { tenantId: observation.tenantId } : {}),
          ...(observation.keyId ? { keyId: observation.keyId } : {}),
          ...(observation.userId ? { userId: observation.userId } : {}),
          ...(observation.rateLimited ? { rateLimited: observation.rateLimited } : {}),
        };
        // With tracing on: the request's trace (OpenTelemetry's field names for logs). Set here rather
        // than spread above, so a server without tracing builds the line exactly as before.
        if (observation.traceId) {
          line.trace_id = observation.traceId;
          line.span_id = observation.spanId;
        }
        logger[level](line, "request");
      };
      // "finish": the response was handed to the socket (before the client can act on it); "close" alone: the client left.
      res.once("finish", end);
      res.once("close", end);
      return observation;
    },
  };
}
