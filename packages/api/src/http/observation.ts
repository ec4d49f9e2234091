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
