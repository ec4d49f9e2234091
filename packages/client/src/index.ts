/**
 * The typed client for TypeScript apps: calls ApprovalMatrix's tRPC procedures with an API key.
 * Inputs and outputs are inferred from the server's router (`AppRouter`), so there is no code to
 * generate and a renamed field is a compile error in your app, not a 400 in production.
 *
 *   const approvals = createApprovalMatrixClient({ baseUrl: "https://approvals.example.com", apiKey });
 *   const { requestId } = await approvals.requests.create.mutate({ submitterRef: "EMP-1042", … });
 */
import type { AppRouter } from "./app-router";
import { type TRPCClient, TRPCClientError, createTRPCClient, httpLink } from "@trpc/client";
import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";

export type { AppRouter };
export type ApprovalMatrixClient = TRPCClient<AppRouter>;
/** Inputs of every procedure, e.g. `RouterInputs["requests"]["decide"]`. */
export type RouterInputs = inferRouterInputs<AppRouter>;
/** Outputs of every procedure, e.g. `RouterOutputs["requests"]["get"]`. */
export type RouterOutputs = inferRouterOutputs<AppRouter>;
/** A failed call: `error.data.apiCode` is the stable machine code (`already_decided`, …). */
export type ApprovalMatrixError = TRPCClientError<AppRouter>;
export type ApiErrorCode = NonNullable<ApprovalMatrixError["data"]>["apiCode"];

export interface ApprovalMatrixClientOptions {
  /** Where ApprovalMatrix runs, e.g. `https://approvals.example.com`; the client calls `<baseUrl>/trpc`. */
  baseUrl: string;
  /** An API key of your tenant (`apx_live_…`), with the scopes the calls need. Load it from the environment. */
  apiKey: string;
  /** A fetch implementation; the global one by default. */
  fetch?: typeof globalThis.fetch;
}

/**
 * Per-call options: pass `{ context: { idempotencyKey } }` as the second argument of `mutate` to
 * send an Idempotency-Key, so that retrying the same call replays the first result instead of
 * applying it twice.
 */
export interface ApprovalMatrixCallContext {
  idempotencyKey?: string;
}

export function createApprovalMatrixClient(options: ApprovalMatrixClientOptions): ApprovalMatrixClient {
  const url = `${options.baseUrl.replace(/\/+$/, "")}/trpc`;
  const authorization = `Bearer ${options.apiKey}`;
  return createTRPCClient<AppRouter>({
    links: [
      // One HTTP request per call (no batching): each mutation carries its own Idempotency-Key.
      httpLink({
        url,
        ...(options.fetch ? { fetch: options.fetch } : {}),
        headers: ({ op }) => {
          const { idempotencyKey } = op.context as ApprovalMatrixCallContext;
          return idempotencyKey ? { Authorization: authorization, "Idempotency-Key": idempotencyKey } : { Authorization: authorization };
        },
      }),
    ],
  });
}

/** The API's machine code of a failed call (`not_found`, `already_decided`, …), or null for anything else. */
export function apiErrorCode(error: unknown): ApiErrorCode | null {
  if (!(error instanceof TRPCClientError)) return null;
  return (error as ApprovalMatrixError).data?.apiCode ?? null;
}
