import type { ApiKeyScope, AuditActorType, Clock, ServiceTokenConfig, TenantRole } from "@approvalmatrix/core";
import type { Database } from "@approvalmatrix/db";
import type { ApiLogger, ProcedureCaller, ProcedureTracer, RequestObservation } from "./http/observation";
import type { AuthenticatedCaller } from "./procedures";
import type { NotificationConfig } from "./services/notifications/mailer";
import type { RateLimitOutcome, RateLimiter } from "./rate-limit/rate-limiter";
import type { WebhookSettings } from "./services/webhooks/send";
import type { ReceiptSigner } from "./services/receipts/keys";

/** What the procedures need from the process: built once at start-up. */
export interface ApiDeps {
  db: Database;
  apiKeyHashSecret: string;
  rateLimiter: RateLimiter;
  /** Largest JSON body accepted on /v1 (bytes). */
  maxBodyBytes: number;
  /**
   * The webhook SSRF guard and attempt deadline (env WEBHOOK_ALLOW_LOOPBACK, WEBHOOK_TIMEOUT_MS).
   * Absent: the production rules (https only, no loopback, 15 s).
   */
  webhooks?: WebhookSettings;
  /** Where internal errors are logged (structured); console when absent. */
  logger?: ApiLogger;
  /** Signs decision receipts and checkpoints with the product's key (services/receipts). */
  receipts: ReceiptSigner;
  /** E-mail: the SMTP transport (null: messages are kept for the Outbox page) and the links' origin. */
  notifications?: NotificationConfig;
  /** Where services read "now" for deadlines and jobs; tests move a ManualClock. */
  clock: Clock;
  /** Tells this process's worker that webhook deliveries fell due (a resend, a replay): it sends them now (Worker.nudge). */
  webhooksDue?: () => void;
  /**
   * Told after a call that may have written events committed (every successful mutation), so
   * this process's worker dispatches them now instead of at its next tick (Worker.nudge).
   */
  eventsWritten?: () => void;
  /** INTERNAL_SERVICE_TOKEN, parsed (core/service-tokens.ts); none when absent. */
  serviceTokens?: readonly ServiceTokenConfig[];
  /** Spans around procedure calls (OpenTelemetry, when tracing is on); absent: no wrapping at all. */
  tracer?: ProcedureTracer;
}

/** The member a service token acts for, named by X-Approver-Email or X-Approver-Ref. */
export interface ActingFor {
  memberId: string;
  ref: string;
  name: string;
}

/** Who is calling. The tenant always comes from here, never from input. */
export type Actor =
  | { kind: "apiKey"; tenantId: string; keyId: string; keyStart: string; scopes: ApiKeyScope[] }
  /** The CLI and the seed: in-process, never reachable over HTTP. */
  | { kind: "operator"; tenantId: string }
  | { kind: "user"; tenantId: string; userId: string; role: TenantRole; memberId: string | null }
  /** A one-click decision link from an e-mail: it acts for exactly one approver on one stage. */
  | { kind: "emailLink"; tenantId: string; linkId: string; memberId: string }
  /** The platform acting on its own: a deadline, an expiry, a periodic job. `reason` names it. */
  | { kind: "system"; tenantId: string; reason: string }
  /** An identity provider keeping the directory in sync over SCIM, with the tenant's SCIM token. */
  | { kind: "scim"; tenantId: string; tokenId: string; provider: string }
  /** An internal service token (INTERNAL_SERVICE_TOKEN) acting for one approver: "Slack bot acting for Jane Smith". */
  | { kind: "serviceToken"; tenantId: string; tokenId: string; tokenName: string; scopes: ApiKeyScope[]; actingFor: ActingFor };

export interface ApiContext {
  deps: ApiDeps;
  /** Id of this HTTP call, echoed in the Request-Id header and in error bodies. */
  requestId: string;
  authorization: string | null;
  /** True when the URL's query string carries something that looks like a credential. */
  credentialInQuery: boolean;
  /** The caller's address: failed authentications are counted per address (procedures.ts). */
  clientIp?: string;
  /**
   * Set by a transport that authenticated the call before reading its body (REST): the key
   * middleware then reuses it instead of looking the key up and counting a second time.
   */
  authenticated?: AuthenticatedCaller;
  /** The origin the caller used (scheme://host), for links in answers (bootstrap's verificationUrl). */
  origin?: string;
  /** X-Approver-Email / X-Approver-Ref: whom a service token acts for. */
  approverHeaders?: { email: string | null; ref: string | null };
  /**
   * What procedures add to the HTTP response: headers (timing, Idempotent-Replayed), the rate-limit
   * state (turned into X-RateLimit-* headers by the transport: in a tRPC batch the state after the
   * last counted call wins) and a status that overrides the procedure's own (an idempotent replay).
   * One shared object: middlewares copy ctx.
   */
  response: { headers: Record<string, string>; status?: number; rateLimit?: RateLimitOutcome };
  actor: Actor | null;
  /**
   * The Idempotency-Key header of this call, if any: mutations replay their first response for it
   * (services/idempotency.ts). Absent for in-process callers.
   */
  idempotencyKey?: string | null;
  /** The HTTP request's log/metrics record (http/observation.ts): authentication names the caller in it. */
  observed?: RequestObservation;
  /** Long operations (a members CSV import) report how far they are; the admin app streams it. */
  onProgress?: (progress: { phase: string; done: number; total: number }) => void;
}

/** Who a call is from, for its trace span: what authentication found (REST, tRPC) or the caller's own actor. */
export function procedureCaller(ctx: ApiContext): ProcedureCaller {
  const actor = ctx.actor;
  return {
    tenantId: ctx.observed?.tenantId ?? actor?.tenantId,
    keyId: ctx.observed?.keyId ?? (actor?.kind === "apiKey" ? actor.keyId : undefined),
    userId: ctx.observed?.userId ?? (actor?.kind === "user" ? actor.userId : undefined),
  };
}

export function actorAudit(actor: Actor): { actorType: AuditActorType; actorId: string } {
  switch (actor.kind) {
    case "apiKey":
      return { actorType: "api_key", actorId: actor.keyId };
    case "serviceToken":
      return { actorType: "service_token", actorId: actor.tokenId };
    case "user":
      return { actorType: "user", actorId: actor.userId };
    case "emailLink":
      return { actorType: "email_link", actorId: actor.linkId };
    case "system":
      return { actorType: "system", actorId: actor.reason };
    case "scim":
      return { actorType: "scim", actorId: actor.tokenId };
    case "operator":
      return { actorType: "operator", actorId: "cli" };
  }
}
