import type { IncomingMessage } from "node:http";
import type { ApiContext, ApiDeps } from "../context";

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

export function contextFromHttp(req: IncomingMessage, deps: ApiDeps, requestId: string): ApiContext {
  return {
    deps,
    requestId,
    authorization: req.headers.authorization ?? null,
    credentialInQuery: hasCredentialInQuery(req.url ?? ""),
    response: { headers: {} },
    actor: null,
  };
}
