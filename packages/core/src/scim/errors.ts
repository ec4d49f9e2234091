/**
 * SCIM errors (RFC 7644 §3.12): an HTTP status, a `scimType` for 400s (and 409's uniqueness), a
 * human detail. The SCIM adapter writes them as `urn:ietf:params:scim:api:messages:2.0:Error`.
 */
export const SCIM_ERROR_TYPES = [
  "invalidFilter",
  "tooMany",
  "uniqueness",
  "mutability",
  "invalidSyntax",
  "invalidPath",
  "noTarget",
  "invalidValue",
  "invalidVers",
  "sensitive",
] as const;
export type ScimErrorType = (typeof SCIM_ERROR_TYPES)[number];

export class ScimError extends Error {
  override readonly name = "ScimError";
  constructor(
    readonly status: number,
    message: string,
    readonly scimType?: ScimErrorType,
  ) {
    super(message);
  }
}

export const scimBadRequest = (scimType: ScimErrorType, message: string) => new ScimError(400, message, scimType);
