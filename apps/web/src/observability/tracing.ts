// OpenTelemetry tracing: off unless an OTLP endpoint is configured. This module is all the server
// loads when it is off (types and one check); the SDK lives in tracing-sdk.ts, imported on demand,
// so a server without tracing never loads @opentelemetry/* and its request path is not wrapped.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ProcedureTracer, RequestObservation } from "@approvalmatrix/api";
import type { DatabaseTarget, QueryTracer } from "@approvalmatrix/db";
import type { ServerEnv } from "../env";
import type { Logger } from "./logger";

export type TracingSettings = Pick<
  ServerEnv,
  | "OTEL_EXPORTER_OTLP_ENDPOINT"
  | "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
  | "OTEL_EXPORTER_OTLP_PROTOCOL"
  | "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"
  | "OTEL_SDK_DISABLED"
  | "OTEL_TRACES_EXPORTER"
>;

export interface HttpTracer {
  /**
   * Runs `handle` inside the request's server span (continuing the caller's W3C `traceparent`),
   * which ends with the response. Names the trace and span on `observation` for the log line.
   */
  request(req: IncomingMessage, res: ServerResponse, path: string, observation: RequestObservation, handle: () => void): void;
}

export interface Tracing {
  /** Where spans go (OTLP/HTTP) and how they are encoded. */
  url: string;
  protocol: "http/protobuf" | "http/json";
  http: HttpTracer;
  procedures: ProcedureTracer;
  /** SQL spans for one database (only inside a request's trace: a job's polling makes none). */
  queries(target: DatabaseTarget): QueryTracer;
  /** pino's mixin: the active span's `trace_id` and `span_id` on every line logged inside a request. */
  logFields: () => Record<string, string>;
  /** Sends the SDK's own warnings (a failed export) to the server's log. */
  reportTo(logger: Logger): void;
  /** Exports the spans still buffered, then stops. */
  shutdown(): Promise<void>;
}

/** The OTLP/HTTP traces URL, as the exporters resolve it; null when tracing is off. */
export function tracesUrl(env: TracingSettings): string | null {
  if (env.OTEL_SDK_DISABLED === "true" || env.OTEL_TRACES_EXPORTER === "none") return null;
  if (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  if (env.OTEL_EXPORTER_OTLP_ENDPOINT) return `${env.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/$/, "")}/v1/traces`;
  return null;
}

/** Starts the SDK when an endpoint is configured; null (and nothing loaded) otherwise. */
export async function startTracing(env: TracingSettings): Promise<Tracing | null> {
  const url = tracesUrl(env);
  if (!url) return null;
  const { createTracing } = await import("./tracing-sdk");
  return createTracing({ url, protocol: env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL ?? "http/protobuf" });
}

/** Where traces go, for the start banner and log line: the protocol and the URL without credentials or query string. */
export function describeTracing(tracing: { protocol: string; url: string }): string {
  const parsed = new URL(tracing.url);
  return `OTLP ${tracing.protocol} to ${parsed.origin}${parsed.pathname}`;
}
