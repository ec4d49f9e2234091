ALTER TABLE "messages" ADD COLUMN "dedupe_key" text;--> statement-breakpoint
CREATE UNIQUE INDEX "messages_dedupe_key_unique" ON "messages" USING btree ("dedupe_key") WHERE "messages"."dedupe_key" is not null;--> statement-breakpoint
-- Hand-written: delegate decisions made before this migration recorded the delegate as the
-- approver. The approver of record becomes the member they stood in for (whose seat it was), and
-- the delegate becomes the decision's actor (type 'delegate'). Receipts already signed stay as signed.
UPDATE "request_stages" s SET "approver_ids" = array_replace(s."approver_ids", d."approver_id", d."on_behalf_of_id")
FROM "decisions" d
WHERE d."request_id" = s."request_id" AND d."stage" = s."position"
  AND d."on_behalf_of_id" IS NOT NULL AND d."on_behalf_of_id" <> d."approver_id"
  AND NOT EXISTS (SELECT 1 FROM "decisions" o WHERE o."request_id" = d."request_id" AND o."stage" = d."stage" AND o."approver_id" = d."on_behalf_of_id");--> statement-breakpoint
UPDATE "decisions" d SET "actor_type" = 'delegate', "actor_id" = d."approver_id", "actor_name" = m."name", "approver_id" = d."on_behalf_of_id"
FROM "members" m
WHERE m."id" = d."approver_id" AND d."on_behalf_of_id" IS NOT NULL AND d."on_behalf_of_id" <> d."approver_id"
  AND NOT EXISTS (SELECT 1 FROM "decisions" o WHERE o."request_id" = d."request_id" AND o."stage" = d."stage" AND o."approver_id" = d."on_behalf_of_id");
