CREATE TABLE "api_key_usage" (
	"key_id" text NOT NULL,
	"tenant_id" text NOT NULL,
	"day" date NOT NULL,
	"count" integer NOT NULL,
	CONSTRAINT "api_key_usage_key_id_day_pk" PRIMARY KEY("key_id","day")
);
--> statement-breakpoint
CREATE TABLE "rate_limit_buckets" (
	"bucket" text PRIMARY KEY NOT NULL,
	"tat" double precision NOT NULL,
	"interval_ms" double precision NOT NULL,
	"allowed" boolean NOT NULL
);
--> statement-breakpoint
CREATE TABLE "bootstrap_requests" (
	"id" text PRIMARY KEY NOT NULL,
	"email" text NOT NULL,
	"agent_name" text NOT NULL,
	"scopes" text[] NOT NULL,
	"note" text,
	"user_code" text NOT NULL,
	"poll_secret_hash" text NOT NULL,
	"client_ip" text,
	"user_agent" text,
	"status" text DEFAULT 'pending' NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"tenant_id" text,
	"decided_by" text,
	"decided_at" timestamp with time zone,
	"granted_scopes" text[],
	"key_expires_at" timestamp with time zone,
	"api_key_id" text,
	"collected_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "rate_limit_counters" DISABLE ROW LEVEL SECURITY;--> statement-breakpoint
DROP TABLE "rate_limit_counters" CASCADE;--> statement-breakpoint
DROP INDEX "api_keys_tenant_active_name_unique";--> statement-breakpoint
ALTER TABLE "api_keys" ALTER COLUMN "rate_limit_per_minute" DROP DEFAULT;--> statement-breakpoint
ALTER TABLE "api_keys" ALTER COLUMN "rate_limit_per_minute" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "requests" ALTER COLUMN "matrix_id" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "tenants" ADD COLUMN "ad_hoc_requests" text DEFAULT 'off' NOT NULL;--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "rate_limits" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "allow_ad_hoc" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "disabled_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "replaced_by_id" text;--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "consent" jsonb;--> statement-breakpoint
ALTER TABLE "requests" ADD COLUMN "expires_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "api_key_usage" ADD CONSTRAINT "api_key_usage_key_id_api_keys_id_fk" FOREIGN KEY ("key_id") REFERENCES "public"."api_keys"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "api_key_usage" ADD CONSTRAINT "api_key_usage_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bootstrap_requests" ADD CONSTRAINT "bootstrap_requests_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bootstrap_requests" ADD CONSTRAINT "bootstrap_requests_decided_by_users_id_fk" FOREIGN KEY ("decided_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bootstrap_requests" ADD CONSTRAINT "bootstrap_requests_api_key_id_api_keys_id_fk" FOREIGN KEY ("api_key_id") REFERENCES "public"."api_keys"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "bootstrap_requests_email_idx" ON "bootstrap_requests" USING btree ("email","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE UNIQUE INDEX "bootstrap_requests_user_code_unique" ON "bootstrap_requests" USING btree ("user_code");--> statement-breakpoint
CREATE UNIQUE INDEX "api_keys_tenant_active_name_unique" ON "api_keys" USING btree ("tenant_id",lower("name")) WHERE "api_keys"."revoked_at" is null and "api_keys"."replaced_by_id" is null;--> statement-breakpoint
-- Hand-written: GCRA buckets need no crash safety (a lost bucket is a full one): no WAL, cheap writes.
ALTER TABLE "rate_limit_buckets" SET UNLOGGED;
