import { GCRA_EPSILON_MS } from "@approvalmatrix/core";
import { type Queryable, rateLimitBuckets, sql } from "@approvalmatrix/db";

/**
 * The GCRA step as one upsert on the row of a bucket: conforming calls move tat on, refused ones
 * leave it. The ON CONFLICT branch reads the row as it was, so the check and the move are atomic
 * under concurrency. The inserted row carries the interval (a placeholder, or in the key lookup
 * computed from the key's limit) and `excluded.interval_ms` hands it to the update.
 */
const conformsSql = sql`greatest(${rateLimitBuckets.tat}, ${sql.placeholder("now")}::float8) + excluded.interval_ms - ${sql.placeholder("now")}::float8 <= ${sql.placeholder("periodMs")}::float8 + ${sql.raw(String(GCRA_EPSILON_MS))}`;

/** The ON CONFLICT … DO UPDATE of every GCRA upsert (see PostgresRateLimitStore). */
export const gcraOnConflict = {
  target: rateLimitBuckets.bucket,
  set: {
    tat: sql`case when ${conformsSql} then greatest(${rateLimitBuckets.tat}, ${sql.placeholder("now")}::float8) + excluded.interval_ms else ${rateLimitBuckets.tat} end`,
    allowed: conformsSql,
    intervalMs: sql`excluded.interval_ms`,
  },
};

/**
 * One call on the bucket named by the `bucket` placeholder at `now` with `intervalMs` and
 * `periodMs`. Built once, prepared (see executePrepared).
 */
export const consumeBucket = (db: Queryable) =>
  db
    .insert(rateLimitBuckets)
    .values({
      bucket: sql.placeholder("bucket"),
      tat: sql`${sql.placeholder("now")}::float8 + ${sql.placeholder("intervalMs")}::float8`,
      intervalMs: sql.placeholder("intervalMs"),
      allowed: sql`${sql.placeholder("intervalMs")}::float8 <= ${sql.placeholder("periodMs")}::float8`,
    })
    .onConflictDoUpdate(gcraOnConflict)
    .returning({ tat: rateLimitBuckets.tat, allowed: rateLimitBuckets.allowed });
