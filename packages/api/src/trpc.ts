import { type ApiErrorCode, DomainError } from "@approvalmatrix/core";
import { initTRPC } from "@trpc/server";
import type { OpenApiMeta } from "trpc-to-openapi";
import type { ApiContext } from "./context";
import { apiError, describeError, fromDomainError } from "./errors";
import { findInputProblem } from "./input-guard";

/** `errorCodes`: the endpoint-specific error codes the OpenAPI document lists for it. */
export type ProcedureMeta = OpenApiMeta<{ errorCodes?: ApiErrorCode[] }>;

const t = initTRPC
  .context<ApiContext>()
  .meta<ProcedureMeta>()
  .create({
    // One error shape for tRPC clients and (rewritten by the REST handler) for /v1. Never a stack.
    errorFormatter({ shape, error, ctx }) {
      const described = describeError(error);
      if (described.code === "internal_error") {
        console.error(`[${ctx?.requestId ?? "-"}] internal error`, error.cause ?? error);
      }
      return {
        message: described.message,
        code: shape.code,
        data: {
          code: shape.data.code,
          httpStatus: shape.data.httpStatus,
          path: shape.data.path,
          apiCode: described.code,
          issues: described.issues,
          requestId: ctx?.requestId,
        },
      };
    },
  });

export const router = t.router;
export const middleware = t.middleware;
export const createCallerFactory = t.createCallerFactory;

/**
 * The boundary of every procedure, whichever transport called it: NUL characters and runaway
 * nesting are refused before anything else reads the input, and domain refusals thrown anywhere
 * below leave as the matching tRPC/HTTP error.
 */
const procedureBoundary = t.middleware(async ({ getRawInput, next }) => {
  const problem = findInputProblem(await getRawInput());
  if (problem) throw apiError("invalid_request", `Invalid request. ${problem.field}: ${problem.message}`, [problem]);
  const result = await next();
  if (!result.ok && result.error.cause instanceof DomainError) throw fromDomainError(result.error.cause);
  return result;
});

export const publicProcedure = t.procedure.use(procedureBoundary);
