import { fileURLToPath } from "node:url";
import { parseServiceTokens } from "@approvalmatrix/core";
import { z } from "zod";

const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

const schema = z.object({
  NODE_ENV: z.enum(["development", "test", "production"]).default("development"),
  HOST: z.string().default("127.0.0.1"),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  /** PostgreSQL connection string; when absent the embedded PGlite under DATA_DIR is used. */
  DATABASE_URL: z.url().optional(),
  /** Rate-limit counters shared by several instances; absent: PostgreSQL (DATABASE_URL) or memory (embedded). */
  REDIS_URL: z.url().optional(),
  /** Prefix of every Redis key, so deployments sharing one Redis stay apart. */
  REDIS_KEY_PREFIX: z.string().min(1).max(100).default("apx:"),
  DATA_DIR: z.string().default(`${REPO_ROOT}.data`),
  API_KEY_HASH_SECRET: z.string().optional(),
  /** Encrypts the receipt-signing private keys at rest (README "Signed receipts"); like API_KEY_HASH_SECRET. */
  RECEIPT_SIGNING_SECRET: z.string().optional(),
  MAX_BODY_BYTES: z.coerce.number().int().min(1024).max(10_000_000).default(100_000),
  /** Unset: seed only on the embedded database outside production (see readEnv). */
  SEED_DEMO: z.enum(["true", "false"]).optional(),
  /** Set by pnpm to the directory it was run from (a `--filter` script runs elsewhere): the CLI's relative paths. */
  INIT_CWD: z.string().optional(),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  /**
   * How many reverse proxies in front of the server append to X-Forwarded-For: the client address
   * (sign-in throttling) is taken that many hops from the right. 0: the socket's peer, header ignored.
   */
  TRUST_PROXY: z.coerce.number().int().min(0).max(10).default(0),
  /** pino's levels; "silent" logs nothing. */
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  /** json: one JSON object per line (the default in production); pretty: readable lines (the default otherwise). */
  LOG_FORMAT: z.enum(["json", "pretty"]).optional(),
  /** Bearer token that /metrics on the main port requires; without it (and without METRICS_PORT) /metrics is off. */
  METRICS_TOKEN: z.string().min(16, "use at least 16 characters").optional(),
  /** Serve /metrics (no token) on this port instead, for an internal network only. */
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  /** Address the metrics port binds to (default: HOST). */
  METRICS_HOST: z.string().optional(),
  /** Graceful shutdown: how long in-flight requests and jobs get to finish before connections are cut. */
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).max(600_000).default(10_000),
  /**
   * Graceful shutdown: how long /readyz answers 503 while requests are still served, before the
   * listener closes: set it above the proxy's health-check interval × failure threshold.
   */
  SHUTDOWN_DRAIN_DELAY_MS: z.coerce.number().int().min(0).max(120_000).default(0),
  /**
   * Lets webhooks reach loopback receivers (http://127.0.0.1:…, localhost): for development and
   * the tests (and benchmarks); the start banner warns when it is on in production. Private,
   * link-local and metadata addresses stay refused.
   */
  WEBHOOK_ALLOW_LOOPBACK: z.enum(["true", "false"]).default("false"),
  /** Deadline of one webhook attempt, in milliseconds (15 s; tests shorten it). */
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(15_000),
  /** Where e-mail goes out (smtp://user:pass@host:587, smtps://…:465); absent: kept in the admin app's Outbox page. */
  SMTP_URL: z.url({ protocol: /^smtps?$/ }).optional(),
  /** The From header of every e-mail. */
  MAIL_FROM: z.string().min(3).default("ApprovalMatrix <approvalmatrix@localhost>"),
  /** The origin people reach the admin app at (links in e-mails); absent: the address the server listens on. */
  PUBLIC_URL: z.url().optional(),
  /**
   * Internal service tokens (seed 002), one or more separated by whitespace or commas, each
   * `internal-<secret>?tenant=<slug>&name=<label>&scopes=<a>+<b>` (core/service-tokens.ts).
   */
  INTERNAL_SERVICE_TOKEN: z
    .string()
    .optional()
    .superRefine((value, ctx) => {
      try {
        parseServiceTokens(value);
      } catch (error) {
        ctx.addIssue({ code: "custom", message: (error as Error).message });
      }
    }),
  /**
   * The durable job worker (event dispatch, webhook deliveries, deadlines, e-mail) runs inside
   * every server process unless `off`: then run `pnpm cli worker` as its own process.
   */
  WORKER: z.enum(["on", "off"]).default("on"),
  /** Jobs one worker runs at once. */
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  /**
   * OpenTelemetry tracing (README "Tracing") is on when either endpoint is set: the collector's
   * base URL (traces go to <it>/v1/traces) or the full traces URL. The SDK reads the other OTEL_*
   * variables (OTEL_SERVICE_NAME, OTEL_TRACES_SAMPLER, OTEL_EXPORTER_OTLP_HEADERS…) itself.
   */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  /** OTLP over HTTP only: protobuf (the specification's default) or JSON. */
  OTEL_EXPORTER_OTLP_PROTOCOL: z.enum(["http/protobuf", "http/json"]).optional(),
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: z.enum(["http/protobuf", "http/json"]).optional(),
  /** The specification's switches: OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none turn tracing off whatever the endpoints say. */
  OTEL_SDK_DISABLED: z.enum(["true", "false"]).optional(),
  OTEL_TRACES_EXPORTER: z.enum(["otlp", "none"]).optional(),
  /**
   * Parse every procedure's answer against its output schema before it is sent. Unset: on outside
   * production, off in production (README "Output validation"): the tests check every endpoint's
   * answers against the OpenAPI document, so production skips the second parse.
   */
  VALIDATE_OUTPUT: z.enum(["true", "false"]).optional(),
});

export type ServerEnv = z.infer<typeof schema> & { SEED_DEMO: "true" | "false"; VALIDATE_OUTPUT: "true" | "false" };

/** Validates the environment once, at start-up; nothing else reads process.env. */
export function readEnv(source: Record<string, string | undefined> = process.env): ServerEnv {
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== ""));
  const parsed = schema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`).join("\n");
    throw new Error(`Invalid configuration:\n${lines}`);
  }
  const env = parsed.data;
  // A demo tenant (with a live key and printed passwords) belongs on a laptop's embedded database;
  // on PostgreSQL or in production it is seeded only when asked for explicitly.
  const seedDemo = env.SEED_DEMO ?? (env.DATABASE_URL || env.NODE_ENV === "production" ? "false" : "true");
  const validateOutput = env.VALIDATE_OUTPUT ?? (env.NODE_ENV === "production" ? "false" : "true");
  return { ...env, SEED_DEMO: seedDemo, VALIDATE_OUTPUT: validateOutput };
}
