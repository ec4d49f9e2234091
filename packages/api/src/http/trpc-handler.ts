import { newId } from "@approvalmatrix/core";
import { createHTTPHandler } from "@trpc/server/adapters/standalone";
import type { ApiDeps } from "../context";
import { describeError, logInternalError } from "../errors";
import { rateLimitHeaders } from "../rate-limit/rate-limiter";
import { appRouter } from "../root";
import { observationOf } from "./observation";
import { contextFromHttp } from "./request-context";

export const TRPC_PREFIX = "/trpc";

/**
 * Most calls one tRPC batch (one HTTP request) may carry. Each call is authenticated and counted
 * on its own; an unbounded batch would let one request do unbounded work. Past it: 400
 * invalid_request (the request's shape is wrong, whatever its byte size).
 */
export const MAX_TRPC_BATCH_SIZE = 10;

const PROCEDURE_NAMES = new Set(Object.keys(appRouter._def.procedures));

/** The route label of a tRPC call: its procedure, or "(batch)"; an unknown name never becomes a label of its own. */
function trpcRoute(url: string): string {
  const path = (url.split("?")[0] ?? "").slice(TRPC_PREFIX.length + 1);
  if (path.includes(",")) return `${TRPC_PREFIX}/(batch)`;
  return `${TRPC_PREFIX}/${PROCEDURE_NAMES.has(path) ? path : "(unknown)"}`;
}

/** tRPC over HTTP for TypeScript apps: the same procedures, same auth, same limits. */
export function createTrpcHandler(deps: ApiDeps) {
  const requestIds = new WeakMap<object, string>();
  return createHTTPHandler({
    router: appRouter,
    basePath: `${TRPC_PREFIX}/`,
    maxBodySize: deps.maxBodyBytes,
    maxBatchSize: MAX_TRPC_BATCH_SIZE,
    createContext: ({ req, res }) => {
      const observed = observationOf(req);
      const requestId = requestIds.get(req) ?? observed?.requestId ?? newId("httpRequest");
      if (observed) observed.route = trpcRoute(req.url ?? "");
      requestIds.set(req, requestId);
      res.setHeader("Request-Id", requestId);
      return contextFromHttp(req, deps, requestId);
    },
    onError: ({ error, req }) => {
      if (describeError(error).code === "internal_error") logInternalError(requestIds.get(req) ?? "-", error, deps.logger);
    },
    // One context per HTTP request: for a batch, the rate-limit state after its last counted call.
    responseMeta: ({ ctx }) => ({
      headers: { ...ctx?.response.headers, ...(ctx?.response.rateLimit ? rateLimitHeaders(ctx.response.rateLimit) : {}) },
    }),
  });
}
