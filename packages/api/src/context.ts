import type { ApiKeyScope, AuditActorType, TenantRole } from "@approvalmatrix/core";
import type { Database } from "@approvalmatrix/db";
import type { RateLimiter } from "./rate-limit/rate-limiter";

/** What the procedures need from the process: built once at start-up. */
export interface ApiDeps {
  db: Database;
  apiKeyHashSecret: string;
  rateLimiter: RateLimiter;
  /** Largest JSON body accepted on /v1 (bytes). */
  maxBodyBytes: number;
}

/** Who is calling. The tenant always comes from here, never from input. */
export type Actor =
  | { kind: "apiKey"; tenantId: string; keyId: string; keyStart: string; scopes: ApiKeyScope[] }
  /** The CLI and the seed: in-process, never reachable over HTTP. */
  | { kind: "operator"; tenantId: string }
  | { kind: "user"; tenantId: string; userId: string; role: TenantRole; memberId: string | null };

export interface ApiContext {
  deps: ApiDeps;
  /** Id of this HTTP call, echoed in the Request-Id header and in error bodies. */
  requestId: string;
  authorization: string | null;
  /** True when the URL's query string carries something that looks like a credential. */
  credentialInQuery: boolean;
  /**
   * What procedures add to the HTTP response: headers (rate-limit figures, Retry-After, timing)
   * and the success status (REST create answers 201). One shared object: middlewares copy ctx.
   */
  response: { headers: Record<string, string>; status?: number };
  actor: Actor | null;
  /**
   * The Idempotency-Key header of this call, if any: mutations replay their first response for it
   * (services/idempotency.ts). Absent for in-process callers.
   */
  idempotencyKey?: string | null;
  /** Long operations (a members CSV import) report how far they are; the admin app streams it. */
  onProgress?: (progress: { phase: string; done: number; total: number }) => void;
}

export function actorAudit(actor: Actor): { actorType: Exclude<AuditActorType, "system">; actorId: string } {
  if (actor.kind === "apiKey") return { actorType: "api_key", actorId: actor.keyId };
  if (actor.kind === "user") return { actorType: "user", actorId: actor.userId };
  return { actorType: "operator", actorId: "cli" };
}
