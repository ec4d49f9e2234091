-- Hand-edited: the UPDATE is a data fix drizzle cannot express. Keys created before this rule may
-- share a name; the newer ones get their key start appended (e.g. "CI (apx_live_ab12)") so the
-- unique index below can be built and people can tell them apart. Nothing else changes.
UPDATE "api_keys" SET "name" = "api_keys"."name" || ' (' || "api_keys"."start" || ')'
FROM (
  SELECT "id", row_number() OVER (PARTITION BY "tenant_id", lower("name") ORDER BY "created_at", "id") AS "n"
  FROM "api_keys" WHERE "revoked_at" IS NULL
) AS "dup"
WHERE "dup"."id" = "api_keys"."id" AND "dup"."n" > 1;--> statement-breakpoint
CREATE UNIQUE INDEX "api_keys_tenant_active_name_unique" ON "api_keys" USING btree ("tenant_id",lower("name")) WHERE "api_keys"."revoked_at" is null;
