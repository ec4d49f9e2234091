/**
 * The stable machine codes of every API error, with their HTTP status and a description for the
 * OpenAPI document. Clients branch on `code`; messages are for people and may change.
 */
export const API_ERRORS = {
  invalid_request: { status: 400, description: "The body, path or query failed validation; `issues` names each field." },
  invalid_json: { status: 400, description: "The body is not valid JSON." },
  unauthorized: {
    status: 401,
    description: "No key, a malformed, unknown, expired or revoked key, or a key outside the Authorization header.",
  },
  forbidden: { status: 403, description: "The key lacks the scope this endpoint needs." },
  not_found: { status: 404, description: "No such resource in your tenant, or no such endpoint." },
  method_not_allowed: {
    status: 405,
    description: "The path exists but not with this method; the `Allow` header lists the methods it takes.",
  },
  conflict: { status: 409, description: "The resource is in a state that does not allow this operation." },
  idempotency_conflict: { status: 409, description: "The Idempotency-Key was already used with a different request body." },
  payload_too_large: { status: 413, description: "The body exceeds the size limit." },
  unsupported_media_type: { status: 415, description: "The body must be sent as application/json." },
  unknown_submitter: { status: 422, description: "No active member of your tenant has this submitterRef." },
  unknown_approver: { status: 422, description: "No active member of your tenant has this approverRef (or approverEmail)." },
  approver_required: {
    status: 400,
    description: "A service token must name the approver it acts for: X-Approver-Email or X-Approver-Ref.",
  },
  approver_other_tenant: { status: 403, description: "The approver named belongs to another tenant than the service token's." },
  approver_inactive: { status: 422, description: "The approver named is a deactivated member." },
  ad_hoc_not_allowed: {
    status: 403,
    description: "Your tenant does not let this key address an approver directly (setting: ad-hoc requests).",
  },
  no_matching_matrix: { status: 422, description: "No active approval matrix matches the request; the message says what was tried." },
  no_eligible_approver: { status: 422, description: "A stage of the matching matrix has no eligible approver for this submitter." },
  not_an_approver: { status: 422, description: "The member is not an eligible approver of the current stage." },
  webhook_url_refused: {
    status: 422,
    description:
      "The webhook URL is refused: not https (in production), credentials in it, or a loopback, private, link-local or metadata address.",
  },
  already_decided: { status: 409, description: "This approver already decided on this stage." },
  request_closed: { status: 409, description: "The request is approved, rejected or cancelled and can no longer change." },
  delegation_loop: {
    status: 422,
    description: "The delegation would close a loop (Jane → Bob → Jane) or points at the member themselves.",
  },
  invalid_reassignment: {
    status: 422,
    description:
      "The stage cannot be reassigned that way: the approver is not on the open stage or already decided, or the new approver is the submitter or already on it.",
  },
  rate_limited: {
    status: 429,
    description: "Too many requests for this bucket (key, address, email or bootstrap); retry after `Retry-After` seconds.",
  },
  internal_error: { status: 500, description: "An unexpected error; quote the requestId to support." },
} as const satisfies Record<string, { status: number; description: string }>;

export type ApiErrorCode = keyof typeof API_ERRORS;

export interface ErrorIssue {
  /** Dotted path of the offending field, e.g. `metadata.department`. */
  field: string;
  message: string;
}

/** A refusal the domain knows how to explain; adapters map it to their transport. */
export class DomainError extends Error {
  override readonly name = "DomainError";
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly issues?: ErrorIssue[],
  ) {
    super(message);
  }

  get status(): number {
    return API_ERRORS[this.code].status;
  }
}
