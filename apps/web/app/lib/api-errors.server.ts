import { data, redirect } from "@remix-run/node";
import type { TRPCError } from "@trpc/server";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";

/** What a form shows when the API refused: a summary and per-field messages. */
export interface FormFailure {
  ok: false;
  formError: string;
  fieldErrors: Record<string, string>;
}

interface TrpcLikeError {
  name: string;
  code: string;
  message: string;
  cause?: { code?: string; issues?: { field?: string; path?: PropertyKey[]; message: string }[] };
}

function isTrpcError(error: unknown): error is TrpcLikeError {
  return (
    !!error &&
    typeof error === "object" &&
    (error as { name?: unknown }).name === "TRPCError" &&
    typeof (error as { code?: unknown }).code === "string"
  );
}

/**
 * The HTTP status of a refusal, from tRPC's own code table (the one /trpc and /v1 answer with), or
 * null for anything that is not a 4xx refusal: those propagate and become the error page.
 */
function refusalStatus(error: TrpcLikeError): number | null {
  // It reads only the code, which TrpcLikeError carries.
  const status = getHTTPStatusCodeFromError(error as unknown as TRPCError);
  return status >= 400 && status < 500 ? status : null;
}

/** Field messages from our DomainError issues or zod's issues. */
function fieldErrorsOf(error: TrpcLikeError): Record<string, string> {
  const out: Record<string, string> = {};
  for (const issue of error.cause?.issues ?? []) {
    const field = issue.field ?? (issue.path ?? []).map(String).join(".");
    if (field && !(field in out)) out[field] = issue.message;
  }
  return out;
}

function summary(error: TrpcLikeError, fieldErrors: Record<string, string>): string {
  if (
    error.code === "BAD_REQUEST" &&
    Object.keys(fieldErrors).length &&
    error.cause &&
    !("code" in error.cause && typeof error.cause.code === "string")
  ) {
    return "Please fix the highlighted fields.";
  }
  return error.message;
}

/**
 * Runs an API call for an action: refusals (validation, conflict, not found, forbidden) become
 * an inline form failure with the right status, never a 500. Other errors propagate.
 */
export async function attempt<T>(
  call: () => Promise<T>,
): Promise<{ ok: true; value: T } | { ok: false; failure: ReturnType<typeof data<FormFailure>> }> {
  try {
    return { ok: true, value: await call() };
  } catch (error) {
    if (!isTrpcError(error)) throw error;
    if (error.code === "UNAUTHORIZED") throw redirect("/sign-in");
    const status = refusalStatus(error);
    if (!status) throw error;
    const fieldErrors = fieldErrorsOf(error);
    return { ok: false, failure: formFailure(summary(error, fieldErrors), fieldErrors, status) };
  }
}

/** For loaders: a refusal becomes the matching error response (404 page, 403 page), never a 500. */
export async function load<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (!isTrpcError(error)) throw error;
    if (error.code === "UNAUTHORIZED") throw redirect("/sign-in");
    const status = refusalStatus(error);
    if (!status) throw error;
    throw data(error.message, { status });
  }
}

export function formFailure(formError: string, fieldErrors: Record<string, string> = {}, status = 400) {
  return data<FormFailure>({ ok: false, formError, fieldErrors }, { status });
}
