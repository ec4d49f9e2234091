/** What a signed-in person of a tenant may do, least to most. */
export const TENANT_ROLES = ["approver", "admin", "owner"] as const;
export type TenantRole = (typeof TENANT_ROLES)[number];

/** True when `role` is `minRole` or above it. */
export function hasRole(role: TenantRole, minRole: TenantRole): boolean {
  return TENANT_ROLES.indexOf(role) >= TENANT_ROLES.indexOf(minRole);
}

/** Who may give a new user `role`: anyone who manages users may add approvers; only owners add admins and owners. */
export function mayGrantRole(granter: TenantRole, role: TenantRole): boolean {
  return role === "approver" ? hasRole(granter, "admin") : granter === "owner";
}

/**
 * API scopes a person may hand to an agent by consent (agent bootstrap): an approver may let it
 * submit and read requests; deciding for any approver needs an admin; managing keys an owner.
 */
const SCOPE_MIN_ROLE: Record<string, TenantRole> = {
  "requests:read": "approver",
  "requests:write": "approver",
  "decisions:write": "admin",
  "keys:write": "owner",
};

export function mayGrantScope(granter: TenantRole, scope: string): boolean {
  const needed = SCOPE_MIN_ROLE[scope];
  return needed !== undefined && hasRole(granter, needed);
}
