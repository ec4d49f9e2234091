import { describe, expect, it } from "vitest";
import { readEnv } from "./env";

const PG = "postgres://postgres@127.0.0.1:5432/approvalmatrix";

describe("SEED_DEMO: a demo tenant only where it belongs", () => {
  it.each<[Record<string, string>, string, string]>([
    [{}, "true", "the embedded database in development"],
    [{ NODE_ENV: "test" }, "true", "the embedded database in tests"],
    [{ DATABASE_URL: PG }, "false", "PostgreSQL"],
    [{ NODE_ENV: "production" }, "false", "production, even embedded"],
    [{ DATABASE_URL: PG, NODE_ENV: "production" }, "false", "PostgreSQL in production"],
    [{ DATABASE_URL: PG, SEED_DEMO: "true" }, "true", "PostgreSQL when asked explicitly"],
    [{ NODE_ENV: "production", SEED_DEMO: "true" }, "true", "production when asked explicitly"],
    [{ SEED_DEMO: "false" }, "false", "the embedded database when refused"],
    [{ DATABASE_URL: "", SEED_DEMO: "" }, "true", "empty values count as unset"],
  ])("%o → SEED_DEMO=%s (%s)", (source, expected) => {
    expect(readEnv(source).SEED_DEMO).toBe(expected);
  });
});

describe("VALIDATE_OUTPUT: answers parsed against their schemas everywhere but production", () => {
  it.each<[Record<string, string>, string]>([
    [{}, "true"],
    [{ NODE_ENV: "test" }, "true"],
    [{ NODE_ENV: "production" }, "false"],
    [{ NODE_ENV: "production", VALIDATE_OUTPUT: "true" }, "true"],
    [{ NODE_ENV: "development", VALIDATE_OUTPUT: "false" }, "false"],
    [{ NODE_ENV: "production", VALIDATE_OUTPUT: "" }, "false"],
  ])("%o → VALIDATE_OUTPUT=%s", (source, expected) => {
    expect(readEnv(source).VALIDATE_OUTPUT).toBe(expected);
  });

  it("refuses anything but true or false", () => {
    expect(() => readEnv({ VALIDATE_OUTPUT: "yes" })).toThrow(/VALIDATE_OUTPUT/);
  });
});
