import type { IncomingMessage } from "node:http";
import type { ApiContext, ApiDeps } from "../context";
import { observationOf } from "./observation";

const CREDENTIAL_PARAMS = new Set(["api_key", "apikey", "key", "access_token", "token", "authorization", "bearer"]);

/** True when a query string carries something that looks like a credential. */
export function hasCredentialInQuery(url: string): boolean {
  const queryStart = url.indexOf("?");
  if (queryStart === -1) return false;
  for (const [name, value] of new URLSearchParams(url.slice(queryStart + 1))) {
    if (CREDENTIAL_PARAMS.has(name.toLowerCase()) || value.includes("apx_live_")) return true;
  }
  return false;
}

/** One header's value; a repeated header arrives as an array and is joined, so it cannot match by accident. */
function headerValue(value: string | string[] | undefined): string | null {
  if (value === undefined) return null;
  return Array.isArray(value) ? value.join(", ") : value;
}

export function contextFromHttp(req: IncomingMessage, deps: ApiDeps, requestId: string): ApiContext {
  return {
    deps,
    requestId,
    authorization: req.headers.authorization ?? null,
    credentialInQuery: hasCredentialInQuery(req.url ?? ""),
    // The socket's peer: a proxy in front must be trusted explicitly before a forwarded address is.
    clientIp: req.socket.remoteAddress ?? "unknown",
    idempotencyKey: headerValue(req.headers["idempotency-key"]),
    origin: `${"encrypted" in req.socket && req.socket.encrypted ? "https" : "http"}://${headerValue(req.headers.host) ?? "localhost"}`,
    approverHeaders: { email: headerValue(req.headers["x-approver-email"]), ref: headerValue(req.headers["x-approver-ref"]) },
    response: { headers: {} },
    actor: null,
    observed: observationOf(req),
  };
}
