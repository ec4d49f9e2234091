CREATE TABLE "receipt_checkpoints" (
	"id" text PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"tree_size" integer NOT NULL,
	"root_hash" text NOT NULL,
	"payload_type" text NOT NULL,
	"payload" text NOT NULL,
	"signatures" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "receipt_logs" (
	"tenant_id" text PRIMARY KEY NOT NULL,
	"size" integer DEFAULT 0 NOT NULL,
	"compact_range" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"last_leaf_hash" text,
	"checkpointed_size" integer DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "receipts" (
	"id" text PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"position" integer NOT NULL,
	"request_id" text NOT NULL,
	"decision_id" text,
	"kind" text NOT NULL,
	"payload_type" text NOT NULL,
	"payload" text NOT NULL,
	"signatures" jsonb NOT NULL,
	"leaf_hash" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "signing_keys" (
	"kid" text PRIMARY KEY NOT NULL,
	"public_key" text NOT NULL,
	"private_key_encrypted" text NOT NULL,
	"status" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"activated_at" timestamp with time zone,
	"retired_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "receipt_checkpoints" ADD CONSTRAINT "receipt_checkpoints_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "receipt_logs" ADD CONSTRAINT "receipt_logs_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "receipts" ADD CONSTRAINT "receipts_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "receipt_checkpoints_tenant_size_idx" ON "receipt_checkpoints" USING btree ("tenant_id","tree_size" DESC NULLS LAST,"created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE UNIQUE INDEX "receipts_tenant_position_unique" ON "receipts" USING btree ("tenant_id","position");--> statement-breakpoint
CREATE INDEX "receipts_tenant_request_idx" ON "receipts" USING btree ("tenant_id","request_id");--> statement-breakpoint
CREATE UNIQUE INDEX "signing_keys_one_active" ON "signing_keys" USING btree ("status") WHERE "signing_keys"."status" = 'active';--> statement-breakpoint
CREATE UNIQUE INDEX "signing_keys_one_next" ON "signing_keys" USING btree ("status") WHERE "signing_keys"."status" = 'next';--> statement-breakpoint
-- Hand-written: receipts and checkpoints are append-only. The database refuses UPDATE, DELETE
-- and TRUNCATE on them, so that a bug or a careless script cannot rewrite the log; someone
-- who owns the database can still drop the trigger, which is what the signatures and the log's
-- hash chain are for (README "Signed receipts").
CREATE FUNCTION "refuse_receipt_change"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = '55000';
END;
$$;--> statement-breakpoint
CREATE TRIGGER "receipts_append_only" BEFORE UPDATE OR DELETE ON "receipts" FOR EACH ROW EXECUTE FUNCTION "refuse_receipt_change"();--> statement-breakpoint
CREATE TRIGGER "receipts_no_truncate" BEFORE TRUNCATE ON "receipts" FOR EACH STATEMENT EXECUTE FUNCTION "refuse_receipt_change"();--> statement-breakpoint
CREATE TRIGGER "receipt_checkpoints_append_only" BEFORE UPDATE OR DELETE ON "receipt_checkpoints" FOR EACH ROW EXECUTE FUNCTION "refuse_receipt_change"();--> statement-breakpoint
CREATE TRIGGER "receipt_checkpoints_no_truncate" BEFORE TRUNCATE ON "receipt_checkpoints" FOR EACH STATEMENT EXECUTE FUNCTION "refuse_receipt_change"();
