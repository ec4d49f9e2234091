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
});

export type ServerEnv = z.infer<typeof schema> & { SEED_DEMO: "true" | "false" };

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
  return { ...env, SEED_DEMO: seedDemo };
}
