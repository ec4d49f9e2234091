import { type SQL, sql } from "drizzle-orm";

/**
 * An instant as a parameter of hand-written SQL: raw `sql` fragments get no column encoder, and
 * postgres.js refuses a Date there, so it travels as ISO text with a cast (one rule for both drivers).
 */
export function timestamptz(at: Date): SQL {
  return sql`${at.toISOString()}::timestamptz`;
}
