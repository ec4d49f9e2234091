export { appRouter, createCaller, type AppRouter } from "./root";
export type { Actor, ApiContext, ApiDeps } from "./context";
export { createRestHandler, REST_PREFIX, sendRestError } from "./http/rest-handler";
export { createTrpcHandler, TRPC_PREFIX } from "./http/trpc-handler";
export { buildOpenApiDocument } from "./openapi/document";
export { RateLimiter, type RateLimitStore } from "./rate-limit/rate-limiter";
export { MemoryRateLimitStore, PostgresRateLimitStore, RedisRateLimitStore } from "./rate-limit/stores";
export { createTenant, findTenant, listTenants } from "./services/tenants";
export { seedDemoTenant, hasAnyTenant, DEMO_TENANT_SLUG, type DemoSeed } from "./seed/demo";
