import { describe, expect, it } from "vitest";
import { describeStatement } from "./tracing-sdk";

describe("describeStatement: the span name of a SQL statement", () => {
  it.each([
    ['select "id", "name" from "members" where "members"."tenant_id" = $1', "SELECT", "SELECT members"],
    ['insert into "audit_log" ("id", "tenant_id") values ($1, $2)', "INSERT", "INSERT audit_log"],
    ['update "requests" set "status" = $1 where "requests"."id" = $2', "UPDATE", "UPDATE requests"],
    ['delete from "idempotency_keys" where "expires_at" < $1', "DELETE", "DELETE idempotency_keys"],
    [
      'with "new_request" as (insert into "requests" ("id") values ($1) returning "id") select "id" from "new_request"',
      "INSERT",
      "INSERT requests",
    ],
    ["select 1", "SELECT", "SELECT"],
    ["begin", "BEGIN", "BEGIN"],
    ["  ", "SQL", "SQL"],
  ])("%s → %s, %s", (text, operation, summary) => {
    expect(describeStatement(text)).toEqual({ operation, summary });
  });
});
