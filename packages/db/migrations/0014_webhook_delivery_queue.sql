CREATE INDEX "webhook_deliveries_due_idx" ON "webhook_deliveries" USING btree ("next_attempt_at") WHERE "webhook_deliveries"."status" = 'pending';
--> statement-breakpoint
-- Deliveries are their own queue now (next_attempt_at): the per-delivery jobs of earlier versions go.
DELETE FROM "jobs" WHERE "kind" = 'webhooks.deliver';
