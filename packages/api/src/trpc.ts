import { type ApiErrorCode, DomainError, type KeyRateLimitBucket } from "@approvalmatrix/core";
import { initTRPC } from "@trpc/server";
import type { OpenApiMeta } from "trpc-to-openapi";
import { type ApiContext, procedureCaller } from "./context";
import { apiError, describeError, fromDomainError } from "./errors";
import { findInputProblem } from "./input-guard";

/**
 * `errorCodes`: the endpoint-specific error codes the OpenAPI document lists for it.
 * `successStatus`: the HTTP status of a success on /v1 (201 for a create; 200 when absent); the REST
 * handler answers with it and the OpenAPI document lists it.
 */
export type ProcedureMeta = OpenApiMeta<{
  errorCodes?: ApiErrorCode[];
  successStatus?: 200 | 201;
  /** The key's rate-limit bucket this endpoint counts on; by default reads are "status", writes "write". */
  rateLimit?: KeyRateLimitBucket;
}>;

const t = initTRPC
  .context<ApiContext>()
  .meta<ProcedureMeta>()
  .create({
    // One error shape for tRPC clients and (rewritten by the REST handler) for /v1. Never a stack.
    // Logging happens in the transports' onError (http/*), which know the Request-Id of every call.
    errorFormatter({ shape, error, ctx }) {
      const described = describeError(error);
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
 * Thrown by a middleware to end a call with a response stored earlier (an idempotent replay): the
 * procedure boundary turns it into that success, with its status, without running the procedure.
 */
export class StoredResponse extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super("stored response");
  }
}

/**
 * The boundary of every procedure, whichever transport called it: NUL characters, lone UTF-16
 * surrogates and runaway nesting are refused before anything else reads the input, and domain
 * refusals thrown anywhere below leave as the matching tRPC/HTTP error.
 */
const procedureBoundary = t.middleware((opts) => {
  const tracer = opts.ctx.deps.tracer;
  // Tracing off (the default): no wrapper, no closure.
  if (!tracer) return boundary(opts);
  return tracer.procedure(
    opts.path,
    opts.type,
    () => procedureCaller(opts.ctx),
    () => boundary(opts),
  );
});

async function boundary({ ctx, getRawInput, next, type }: Parameters<Parameters<typeof t.middleware>[0]>[0]) {
  const problem = findInputProblem(await getRawInput());
  if (problem) throw apiError("invalid_request", `Invalid request. ${problem.field}: ${problem.message}`, [problem]);
  const result = await next();
  if (result.ok) {
    // A change committed, maybe with events in the outbox: have them dispatched now.
    if (type === "mutation") ctx.deps.eventsWritten?.();
    return result;
  }
  const cause = result.error.cause;
  if (cause instanceof DomainError) throw fromDomainError(cause);
  if (cause instanceof StoredResponse) {
    ctx.response.status = cause.status;
    return { marker: result.marker, ok: true as const, data: cause.body };
  }
  return result;
}

export const publicProcedure = t.procedure.use(procedureBoundary);
