export { appRouter, createCaller, type AppRouter } from "./root";
export type { Actor, ApiContext, ApiDeps } from "./context";
export { createRestHandler, REST_PREFIX, sendRestError } from "./http/rest-handler";
export { createTrpcHandler, TRPC_PREFIX } from "./http/trpc-handler";
export { createScimHandler, SCIM_PREFIX } from "./http/scim-handler";
export { buildOpenApiDocument } from "./openapi/document";
export { skipOutputValidation } from "./output-validation";
export { RateLimiter, type RateLimitStore } from "./rate-limit/rate-limiter";
export { MemoryRateLimitStore, PostgresRateLimitStore, RedisRateLimitStore } from "./rate-limit/stores";
export { createTenant, findTenant, listTenants } from "./services/tenants";
export { seedDemoTenant, hasAnyTenant, DEMO_TENANT_SLUG, type DemoSeed } from "./seed/demo";
export { inboxQuery, listInbox, listRequests, listRequestsQuery } from "./services/list-requests";
export { purgeExpiredIdempotencyKeys } from "./services/idempotency";
export type { ListRequestsInput, RequestPage } from "./contracts/requests";
export {
  type ApiLogger,
  type ProcedureCaller,
  type ProcedureTracer,
  type RequestObservation,
  observationOf,
  startObservation,
} from "./http/observation";
export { ReceiptSigner, SigningKeyError, type PublishedKey, type RotationResult } from "./services/receipts/keys";
export { checkpointGrownLogs } from "./services/receipts/log";
export { verifyRequest, verifyEnvelope } from "./services/receipts/verify";
export { smtpTransport, type MailTransport, type NotificationConfig } from "./services/notifications/mailer";
export { sendDueMessages, type SendOutcome } from "./services/notifications/send-messages";
export { composeDueDigests, type DigestOutcome } from "./services/notifications/digests";
export { runDueDeadlines, type SweepOutcome } from "./services/deadlines/deadlines";
export { keyUsageRecorder } from "./services/api-keys/usage";
export { JOB_KINDS, PERIODIC_JOBS, jobHandlers } from "./jobs/handlers";
export { dispatchEvents } from "./jobs/events-dispatch";
export {
  DELIVERY_LEASE_MS,
  claimDueDeliveries,
  deliverDueWebhooks,
  deliveryQueueStats,
  type DeliveryQueueStats,
  webhookFanOut,
} from "./services/webhooks/deliveries";
export { emitEvents, type NewEvent } from "./services/events/emit";
export { findPasswordReset, usePasswordReset } from "./services/users/user-admin";
