import type { IncomingMessage } from "node:http";

/**
 * What the transports learn about one HTTP request for its log line and metrics: the Request-Id,
 * the route template (never the raw path: ids stay out of metric labels), and who called (tenant,
 * key id or user id; never the key itself). The server creates it when the request arrives; the
 * handlers fill it in as they go; the server reads it when the response is finished.
 */
export interface RequestObservation {
  requestId: string;
  route?: string;
  tenantId?: string;
  keyId?: string;
  userId?: string;
  /** Set when the call was refused by a rate limit: the key's own, or the failed-authentication one. */
  rateLimited?: "key" | "unauthenticated";
  /** With tracing on: the request's trace and span, for its log line. */
  traceId?: string;
  spanId?: string;
}

/** Who made a procedure call, as far as it is known (never the key itself). */
export interface ProcedureCaller {
  tenantId?: string | undefined;
  keyId?: string | undefined;
  userId?: string | undefined;
}

/**
 * Reports procedure calls (the server's OpenTelemetry spans, when tracing is on; absent otherwise,
 * and then nothing is wrapped). `run` is the whole call, from the input guard to the result;
 * `caller` is read when it ends, once authentication has named the caller.
 */
export interface ProcedureTracer {
  procedure<R extends { ok: boolean }>(path: string, type: string, caller: () => ProcedureCaller, run: () => Promise<R>): Promise<R>;
}

const observations = new WeakMap<IncomingMessage, RequestObservation>();

/** Attaches an observation to a request (the server does this first). */
export function startObservation(req: IncomingMessage, requestId: string): RequestObservation {
  const observation: RequestObservation = { requestId };
  observations.set(req, observation);
  return observation;
}

/** The request's observation, if the server started one (in-process callers and tests may not). */
export function observationOf(req: IncomingMessage): RequestObservation | undefined {
  return observations.get(req);
}

/** The structured logger the API writes its own lines to (pino's Logger fits). */
export interface ApiLogger {
  error(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
}
