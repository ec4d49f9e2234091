DROP INDEX "request_stages_approvers_idx";--> statement-breakpoint
DROP INDEX "requests_tenant_submitter_created_idx";--> statement-breakpoint
CREATE INDEX "request_stages_open_approvers_idx" ON "request_stages" USING gin ("approver_ids") WHERE "request_stages"."status" = 'open';--> statement-breakpoint
CREATE INDEX "requests_tenant_type_created_idx" ON "requests" USING btree ("tenant_id","request_type","created_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "idempotency_keys_created_idx" ON "idempotency_keys" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "requests_tenant_submitter_created_idx" ON "requests" USING btree ("tenant_id","submitter_id","created_at" DESC NULLS LAST,"id" DESC NULLS LAST);