import { newId } from "@approvalmatrix/core";
import { createHTTPHandler } from "@trpc/server/adapters/standalone";
import type { ApiDeps } from "../context";
import { appRouter } from "../root";
import { contextFromHttp } from "./request-context";

export const TRPC_PREFIX = "/trpc";

/** tRPC over HTTP for TypeScript apps: the same procedures, same auth, same limits. */
export function createTrpcHandler(deps: ApiDeps) {
  return createHTTPHandler({
    router: appRouter,
    basePath: `${TRPC_PREFIX}/`,
    maxBodySize: deps.maxBodyBytes,
    createContext: ({ req, res }) => {
      const requestId = newId("httpRequest");
      res.setHeader("Request-Id", requestId);
      return contextFromHttp(req, deps, requestId);
    },
    responseMeta: ({ ctx }) => ({ headers: ctx?.response.headers ?? {} }),
  });
}
