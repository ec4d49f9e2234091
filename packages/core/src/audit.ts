/** Who an audit row says acted: an API key, a signed-in user, the operator (CLI, seed) or the platform itself. */
export const AUDIT_ACTOR_TYPES = ["api_key", "user", "operator", "system", "service_token"] as const;
export type AuditActorType = (typeof AUDIT_ACTOR_TYPES)[number];
