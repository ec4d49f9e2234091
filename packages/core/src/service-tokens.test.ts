import { describe, expect, it } from "vitest";
import { findServiceToken, parseServiceTokens } from "./service-tokens";

const A = `internal-${"a".repeat(40)}`;
const B = `internal-${"B_-9".repeat(10)}`;

describe("parseServiceTokens", () => {
  it("reads several entries with their tenant, name and scopes, keeping only hashes", () => {
    const tokens = parseServiceTokens(`${A}?tenant=acme&name=Slack+bot&scopes=requests:write+decisions:write\n ${B}?tenant=globex`);
    expect(tokens.map((t) => [t.name, t.tenantSlug, t.scopes])).toEqual([
      ["Slack bot", "acme", ["requests:write", "decisions:write"]],
      ["Internal service", "globex", ["requests:write", "requests:read"]],
    ]);
    expect(JSON.stringify(tokens)).not.toContain("aaaa");
    expect(tokens[0]?.id).toMatch(/^svc_[0-9a-f]{12}$/);
  });

  it.each([
    ["internal-short?tenant=acme", /at least 32/],
    [`${A}`, /tenant/],
    [`${A}?tenant=acme&scopes=requests:nuke`, /unknown scope/],
    [`${A}?tenant=acme ${A}?tenant=globex`, /twice/],
  ])("refuses %s", (value, message) => {
    expect(() => parseServiceTokens(value)).toThrow(message);
  });

  it("is empty when unset", () => {
    expect(parseServiceTokens(undefined)).toEqual([]);
    expect(parseServiceTokens("  ")).toEqual([]);
  });
});

describe("findServiceToken", () => {
  it("finds the entry of a presented token and nothing for any other", () => {
    const tokens = parseServiceTokens(`${A}?tenant=acme ${B}?tenant=globex`);
    expect(findServiceToken(tokens, B)?.tenantSlug).toBe("globex");
    expect(findServiceToken(tokens, `${A}x`)).toBeNull();
    expect(findServiceToken(tokens, "internal-")).toBeNull();
  });
});
