import { API_ERRORS, type ApiErrorCode, DomainError, type ErrorIssue } from "@approvalmatrix/core";
import { TRPCError } from "@trpc/server";
import type { TRPC_ERROR_CODE_KEY } from "@trpc/server/rpc";
import type { ApiLogger } from "./http/observation";

/** The one mapping from our machine codes to tRPC's codes (and so to HTTP statuses). */
const TRPC_CODE_BY_STATUS: Record<number, TRPC_ERROR_CODE_KEY> = {
  400: "BAD_REQUEST",
  401: "UNAUTHORIZED",
  403: "FORBIDDEN",
  404: "NOT_FOUND",
  405: "METHOD_NOT_SUPPORTED",
  409: "CONFLICT",
  413: "PAYLOAD_TOO_LARGE",
  415: "UNSUPPORTED_MEDIA_TYPE",
  422: "UNPROCESSABLE_CONTENT",
  429: "TOO_MANY_REQUESTS",
  500: "INTERNAL_SERVER_ERROR",
};

/** And back, for errors tRPC or the REST bridge raise themselves. */
const API_CODE_BY_TRPC_CODE: Partial<Record<TRPC_ERROR_CODE_KEY, ApiErrorCode>> = {
  PARSE_ERROR: "invalid_json",
  BAD_REQUEST: "invalid_request",
  UNAUTHORIZED: "unauthorized",
  FORBIDDEN: "forbidden",
  NOT_FOUND: "not_found",
  METHOD_NOT_SUPPORTED: "method_not_allowed",
  CONFLICT: "conflict",
  PAYLOAD_TOO_LARGE: "payload_too_large",
  UNSUPPORTED_MEDIA_TYPE: "unsupported_media_type",
  TOO_MANY_REQUESTS: "rate_limited",
};

export function apiError(code: ApiErrorCode, message: string, issues?: ErrorIssue[]): TRPCError {
  const cause = new DomainError(code, message, issues);
  return new TRPCError({ code: TRPC_CODE_BY_STATUS[API_ERRORS[code].status] ?? "INTERNAL_SERVER_ERROR", message, cause });
}

interface ZodLikeIssue {
  path: PropertyKey[];
  message: string;
  code?: string;
  /** unrecognized_keys: the unknown keys, which the issue's path (their parent) does not name. */
  keys?: string[];
}

/** One issue per field; an unknown key is named itself (`limt`, `metadata.x`), not its parent. */
function fieldIssues(issue: ZodLikeIssue): ErrorIssue[] {
  const parent = issue.path.map(String);
  if (issue.code === "unrecognized_keys" && issue.keys?.length) {
    return issue.keys.map((key) => ({ field: [...parent, key].join("."), message: "is not a known field" }));
  }
  return [{ field: parent.join(".") || "(body)", message: issue.message }];
}

function zodIssuesOf(cause: unknown): ZodLikeIssue[] | null {
  if (cause && typeof cause === "object" && "issues" in cause && Array.isArray(cause.issues)) return cause.issues as ZodLikeIssue[];
  return null;
}

export interface ApiErrorDescription {
  code: ApiErrorCode;
  message: string;
  issues?: ErrorIssue[];
}

/** Our machine code, message and field issues for any error a procedure or the bridge raised. */
export function describeError(error: TRPCError): ApiErrorDescription {
  const cause = error.cause;
  if (cause instanceof DomainError) return { code: cause.code, message: cause.message, ...(cause.issues ? { issues: cause.issues } : {}) };
  const zodIssues = error.code === "BAD_REQUEST" ? zodIssuesOf(cause) : null;
  if (zodIssues) {
    const issues = zodIssues.flatMap(fieldIssues);
    const summary = issues.map((i) => `${i.field}: ${i.message}`).join("; ");
    return { code: "invalid_request", message: `Invalid request. ${summary}`, issues };
  }
  const code = API_CODE_BY_TRPC_CODE[error.code] ?? "internal_error";
  if (code === "internal_error") return { code, message: "An unexpected error occurred. Quote the requestId when you contact support." };
  if (error.code === "NOT_FOUND" && error.message === "Not found")
    return { code, message: "No such endpoint. See /v1/openapi.json for the API." };
  if (code === "invalid_json") return { code, message: "The request body is not valid JSON." };
  return { code, message: error.message };
}

/** Procedures throw DomainError from shared code; this turns it into the matching TRPCError. */
export function fromDomainError(error: DomainError): TRPCError {
  return apiError(error.code, error.message, error.issues);
}

/** Name and message of one error in a cause chain; a failed query shows its SQL text, never its parameters. */
function describeForLog(error: Error): string {
  // tRPC's wrapper repeats its cause's message (which may hold data); its code is enough.
  if (error instanceof TRPCError && error.cause) return `TRPCError ${error.code}`;
  const query = (error as { query?: unknown }).query;
  // drizzle's DrizzleQueryError puts the parameters (the caller's data) into its message.
  if (typeof query === "string" && "params" in error) return `${error.name}: Failed query: ${query}`;
  return `${error.name}: ${error.message}`;
}

/**
 * Logs an internal error of one HTTP call: every line starts with its Request-Id (what the client
 * got, and quotes to support), and no line carries request data: the class and message of each
 * error in the cause chain (SQL text without parameters) and the stack frames of the innermost one.
 */
export function logInternalError(requestId: string, error: unknown, logger?: ApiLogger): void {
  const chain: Error[] = [];
  for (let e: unknown = error; e instanceof Error && chain.length < 5; e = e.cause) chain.push(e);
  const lines =
    chain.length > 0
      ? chain.map((e, i) => `${i === 0 ? "internal error" : "  caused by"} ${describeForLog(e)}`)
      : ["internal error (not an Error object)"];
  const innermost = chain.at(-1);
  const frames = innermost?.stack?.split("\n").filter((line) => line.trimStart().startsWith("at ")) ?? [];
  lines.push(...frames.slice(0, 12).map((frame) => `  ${frame.trim()}`));
  if (logger) return logger.error({ requestId, error: lines.join("\n") }, "internal error");
  // A query text spans lines: every one of them carries the Request-Id.
  const prefixed = lines.flatMap((line) => line.split("\n")).map((line) => `[${requestId}] ${line}`);
  console.error(prefixed.join("\n"));
}
