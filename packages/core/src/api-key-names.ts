/**
 * A key's name is how people tell keys apart on the API keys page and in the audit log, so two
 * keys of a tenant that are not revoked may not share one, whatever the letter case. A revoked
 * key's name is free again: rotating a key means a new key under the old name. The database holds
 * the same rule as a unique index on (tenant_id, lower(name)) where revoked_at is null.
 */
export function apiKeyNameKey(name: string): string {
  return name.trim().toLowerCase();
}

/** The name among `activeNames` (names of the tenant's keys not revoked) that `name` clashes with, or null. */
export function clashingApiKeyName(name: string, activeNames: readonly string[]): string | null {
  const key = apiKeyNameKey(name);
  return activeNames.find((existing) => apiKeyNameKey(existing) === key) ?? null;
}
