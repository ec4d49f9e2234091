import { mkdirSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import type { ExtractTablesWithRelations } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import * as schema from "./schema/index";

export type Schema = typeof schema;
/** One type for both drivers: code above this package never knows which one runs. */
export type Database = PgDatabase<PgQueryResultHKT, Schema>;
export type Transaction = PgTransaction<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;
/** Anything queries can run on: the database or an open transaction. */
export type Queryable = Database | Transaction;

export type DatabaseTarget = { kind: "postgres"; url: string; maxConnections?: number } | { kind: "pglite"; dataDir: string | null };

export interface DatabaseHandle {
  db: Database;
  target: DatabaseTarget;
  /**
   * PostgreSQL: the pool's size, how many connections are in use now (running queries, which
   * postgres.js pipelines several to a connection, an open transaction, or connecting), and how
   * many queries wait for one. Absent on PGlite.
   */
  poolStats?(): PoolStats;
  close(): Promise<void>;
}

export interface PoolStats {
  max: number;
  inUse: number;
  waiting: number;
}

/**
 * Where SQL statements are reported (the server's OpenTelemetry spans). Given to openDatabase, it
 * wraps the driver's own query calls, so each span lasts as long as the statement (pool wait
 * included); without one the driver is not wrapped at all.
 */
export interface QueryTracer {
  /** Runs one statement; `run` sends it. `text` is drizzle's parameterised SQL (no values). */
  query<T>(text: string, run: () => PromiseLike<T>): Promise<T>;
  /** Runs a transaction's callback from BEGIN to COMMIT (its statements are reported inside it). */
  transaction<T>(run: () => PromiseLike<T>): Promise<T>;
}

export interface OpenDatabaseOptions {
  tracer?: QueryTracer;
}

export function describeTarget(target: DatabaseTarget): string {
  if (target.kind === "pglite") return target.dataDir ? `embedded PGlite at ${target.dataDir}` : "embedded PGlite in memory";
  const url = new URL(target.url);
  return `PostgreSQL ${url.hostname}:${url.port || 5432}${url.pathname}`;
}

export async function openDatabase(target: DatabaseTarget, options: OpenDatabaseOptions = {}): Promise<DatabaseHandle> {
  const { tracer } = options;
  if (target.kind === "postgres") {
    const client = postgres(target.url, {
      max: target.maxConnections ?? 10,
      onnotice: () => {},
      // Names our connections in pg_stat_activity, so they can be told apart from other clients.
      connection: { application_name: "approvalmatrix" },
    });
    const prepared = preferPreparedStatements(client);
    const db = drizzlePostgres(tracer ? tracedPostgres(prepared, tracer) : prepared, { schema }) as unknown as Database;
    return {
      db,
      target,
      // Read from the queues postgres.js keeps anyway (a patch exposes them): nothing is counted per query.
      poolStats: () => client.poolStats(),
      close: () => client.end({ timeout: 5 }),
    };
  }
  if (target.dataDir) mkdirSync(target.dataDir, { recursive: true });
  const client = target.dataDir ? new PGlite(target.dataDir) : new PGlite();
  await client.waitReady;
  const db = drizzlePglite(tracer ? tracedPglite(client, tracer) : client, { schema }) as unknown as Database;
  return { db, target, close: () => client.close() };
}

/**
 * drizzle runs unnamed queries through `sql.unsafe(…, { prepare: false })`, so PostgreSQL parses and
 * plans every one again. Our query texts are parameterised and few, so let postgres.js prepare and
 * cache them per connection (as its tagged templates do), in transactions too. On the API hot path
 * this moves the planning cost off the database, which is what bounds throughput.
 */
function preferPreparedStatements<T extends postgres.Sql>(sql: T): T {
  return new Proxy(sql, {
    get(target, property, receiver) {
      if (property === "unsafe") {
        return (query: string, params?: unknown[], options?: Record<string, unknown>) =>
          target.unsafe(query, params as never, { ...options, prepare: true });
      }
      if (property === "begin") {
        return (...args: unknown[]) => {
          const callback = args.pop() as (tx: postgres.Sql) => unknown;
          return (target.begin as (...a: unknown[]) => Promise<unknown>)(...args, (tx: postgres.Sql) =>
            callback(preferPreparedStatements(tx)),
          );
        };
      }
      return Reflect.get(target, property, receiver);
    },
  });
}

/**
 * postgres.js with every statement reported to `tracer`: `unsafe` (all drizzle sends) from its
 * `then` (when postgres.js sends it) until it settles, and transactions and savepoints around their
 * callback, whose connection is wrapped the same way.
 */
function tracedPostgres<T extends postgres.Sql>(sql: T, tracer: QueryTracer): T {
  const inTransaction =
    (method: "begin" | "savepoint") =>
    (...args: unknown[]) => {
      const callback = args.pop() as (tx: postgres.Sql) => unknown;
      const run = sql as unknown as Record<typeof method, (...a: unknown[]) => Promise<unknown>>;
      return tracer.transaction(() => run[method](...args, (tx: postgres.Sql) => callback(tracedPostgres(tx, tracer))));
    };
  return new Proxy(sql, {
    get(target, property, receiver) {
      if (property === "unsafe")
        return (query: string, params?: unknown[], options?: Record<string, unknown>) =>
          tracedThen(target.unsafe(query, params as never, options as never), (run) => tracer.query(query, run));
      if (property === "begin" || property === "savepoint") return inTransaction(property);
      return Reflect.get(target, property, receiver);
    },
  });
}

/** A lazy postgres.js query whose `then` runs through `around` (methods such as `.values()` keep the wrapper). */
function tracedThen<T extends object>(query: T, around: (run: () => PromiseLike<unknown>) => Promise<unknown>): T {
  const proxy: T = new Proxy(query, {
    get(target, property) {
      if (property === "then") {
        return (onFulfilled?: (value: unknown) => unknown, onRejected?: (reason: unknown) => unknown) =>
          around(() => target as unknown as PromiseLike<unknown>).then(onFulfilled, onRejected);
      }
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        const out: unknown = (value as (...a: unknown[]) => unknown).apply(target, args);
        return out === target ? proxy : out;
      };
    },
  });
  return proxy;
}

type PgliteTransaction = Parameters<Parameters<PGlite["transaction"]>[0]>[0];

/**
 * PGlite with every statement reported to `tracer`: `query` and `exec`, on the database and on a
 * transaction's handle. Its methods use private fields, so they run on the instance itself.
 */
function tracedPglite(client: PGlite, tracer: QueryTracer): PGlite {
  const query = (on: Pick<PGlite, "query">) => (text: string, params?: unknown[], options?: object) =>
    tracer.query(text, () => on.query(text, params, options));
  const exec = (on: Pick<PGlite, "exec">) => (text: string, options?: object) => tracer.query(text, () => on.exec(text, options));
  const tracedTx = (tx: PgliteTransaction): PgliteTransaction => {
    const txQuery = query(tx);
    const txExec = exec(tx);
    return new Proxy(tx, {
      get(target, property, receiver) {
        if (property === "query") return txQuery;
        if (property === "exec") return txExec;
        return Reflect.get(target, property, receiver) as unknown;
      },
    });
  };
  const own = new Map<PropertyKey, unknown>([
    ["query", query(client)],
    ["exec", exec(client)],
    [
      "transaction",
      <R>(callback: (tx: PgliteTransaction) => Promise<R>) => tracer.transaction(() => client.transaction((tx) => callback(tracedTx(tx)))),
    ],
  ]);
  return new Proxy(client, {
    get(target, property) {
      if (own.has(property)) return own.get(property);
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== "function") return value;
      const bound = (value as (...a: unknown[]) => unknown).bind(target);
      own.set(property, bound);
      return bound;
    },
  });
}

/** Rows of a raw `db.execute(sql…)`: postgres.js returns an array, PGlite `{ rows }`. */
export function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result)) return result as T[];
  return (result as { rows?: T[] }).rows ?? [];
}
