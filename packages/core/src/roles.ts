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
