/**
 * Who an audit row (and a decision) says acted: an API key, a signed-in user, the operator (CLI,
 * seed), the platform itself (a deadline, an expiry), an internal service token, a one-click e-mail
 * link, or an identity provider syncing the directory (SCIM).
 */
export const AUDIT_ACTOR_TYPES = [
  "api_key",
  "user",
  "operator",
  "system",
  "service_token",
  "email_link",
  "scim",
  /** A delegate (out of office) deciding for the approver of record; the actor id is the delegate's member id. */
  "delegate",
] as const;
export type AuditActorType = (typeof AUDIT_ACTOR_TYPES)[number];
