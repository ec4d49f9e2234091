import { z } from "zod";

const schema = z.object({
  TEST_DATABASE_URL: z.url().optional(),
});

/** Test-only settings; the server's own settings live in apps/web/src/env.ts. */
export function readTestEnv() {
  const parsed = schema.safeParse({ TEST_DATABASE_URL: process.env.TEST_DATABASE_URL || undefined });
  if (!parsed.success) throw new Error(`Invalid TEST_DATABASE_URL: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}
