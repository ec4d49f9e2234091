import { createHash, timingSafeEqual } from "node:crypto";
import { API_KEY_SCOPES, type ApiKeyScope } from "./api-keys";

/**
 * Internal service tokens (seed 002): server-to-server credentials for trusted services (a chat
 * bot, an agent platform) that act for a named approver. Never created in the admin app: they are
 * configured in INTERNAL_SERVICE_TOKEN, one or more entries separated by whitespace or commas, each
 * a token with URL-query settings:
 *
 *   internal-<at least 32 of A-Z a-z 0-9 _ ->?tenant=<tenant slug>&name=<label>&scopes=<scope>+<scope>
 *
 * e.g. `internal-8Jq…Zr?tenant=acme&name=Slack+bot&scopes=requests:write+requests:read+decisions:write`
 * (`+` or `%20` for spaces; scopes default to requests:write and requests:read). Only the SHA-256
 * of each token is kept in memory; a presented token is compared with every entry in constant time.
 */
export const SERVICE_TOKEN_PREFIX = "internal-";
const TOKEN_PATTERN = /^internal-[A-Za-z0-9_-]{32,200}$/;
const DEFAULT_SERVICE_TOKEN_SCOPES: ApiKeyScope[] = ["requests:write", "requests:read"];

export interface ServiceTokenConfig {
  /** What audit rows and views show: "Slack bot acting for Jane Smith". */
  name: string;
  tenantSlug: string;
  scopes: ApiKeyScope[];
  /** SHA-256 of the token; the first 12 hex characters identify it in audit rows. */
  tokenHash: Buffer;
  id: string;
}

export function isServiceToken(presented: string): boolean {
  return presented.startsWith(SERVICE_TOKEN_PREFIX);
}

function sha256(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}

/** Parses INTERNAL_SERVICE_TOKEN; throws an Error naming the bad entry (by position, never its secret). */
export function parseServiceTokens(value: string | undefined): ServiceTokenConfig[] {
  if (!value?.trim()) return [];
  const entries = value.split(/[\s,]+/).filter(Boolean);
  const tokens: ServiceTokenConfig[] = [];
  entries.forEach((entry, index) => {
    const where = `INTERNAL_SERVICE_TOKEN entry ${index + 1}`;
    const [token = "", query = ""] = entry.split("?", 2);
    if (!TOKEN_PATTERN.test(token)) {
      throw new Error(`${where}: a token is "internal-" followed by at least 32 letters, digits, "_" or "-".`);
    }
    const params = new URLSearchParams(query);
    const tenantSlug = params.get("tenant")?.trim();
    if (!tenantSlug) throw new Error(`${where}: add ?tenant=<tenant slug> (each token is bound to one tenant).`);
    const scopes =
      params
        .get("scopes")
        ?.split(/[\s+]+/)
        .filter(Boolean) ?? DEFAULT_SERVICE_TOKEN_SCOPES;
    const unknown = scopes.filter((s) => !(API_KEY_SCOPES as readonly string[]).includes(s));
    if (unknown.length) throw new Error(`${where}: unknown scope(s) ${unknown.join(", ")}; known: ${API_KEY_SCOPES.join(", ")}.`);
    const tokenHash = sha256(token);
    if (tokens.some((t) => t.tokenHash.equals(tokenHash))) throw new Error(`${where}: the same token appears twice.`);
    tokens.push({
      name: params.get("name")?.trim() || "Internal service",
      tenantSlug,
      scopes: [...new Set(scopes)] as ApiKeyScope[],
      tokenHash,
      id: `svc_${tokenHash.toString("hex").slice(0, 12)}`,
    });
  });
  return tokens;
}

/** The entry whose token is `presented`, comparing against every entry in constant time (no early exit). */
export function findServiceToken(tokens: readonly ServiceTokenConfig[], presented: string): ServiceTokenConfig | null {
  const hash = sha256(presented);
  let found: ServiceTokenConfig | null = null;
  for (const token of tokens) if (timingSafeEqual(token.tokenHash, hash) && !found) found = token;
  return found;
}
