import { API_ERRORS, type ApiErrorCode, DomainError, type ErrorIssue } from "@approvalmatrix/core";
import { TRPCError } from "@trpc/server";
import type { TRPC_ERROR_CODE_KEY } from "@trpc/server/rpc";

/** The one mapping from our machine codes to tRPC's codes (and so to HTTP statuses). */
const TRPC_CODE_BY_STATUS: Record<number, TRPC_ERROR_CODE_KEY> = {
  400: "BAD_REQUEST",
  401: "UNAUTHORIZED",
  403: "FORBIDDEN",
  404: "NOT_FOUND",
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
  METHOD_NOT_SUPPORTED: "not_found",
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
    const issues = zodIssues.map((issue) => ({ field: issue.path.map(String).join(".") || "(body)", message: issue.message }));
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
