import { PgTransaction } from "drizzle-orm/pg-core";
import type { Queryable } from "./client";

interface Executable<T> {
  execute(placeholders?: Record<string, unknown>): Promise<T>;
}
interface Preparable<T> extends Executable<T> {
  prepare(name: string): Executable<T>;
}

const statementsByDatabase = new WeakMap<object, Map<string, Executable<unknown>>>();

/**
 * Runs the query `build` makes, with `placeholders` (`sql.placeholder(…)` in the query). On the
 * database it is built and prepared once and reused, which takes drizzle's query building off the
 * hot path; inside a transaction it is built afresh, as prepared queries belong to their database.
 */
export function executePrepared<T>(
  db: Queryable,
  name: string,
  build: (db: Queryable) => Preparable<T>,
  placeholders: Record<string, unknown>,
): Promise<T> {
  if (db instanceof PgTransaction) return build(db).execute(placeholders);
  let statements = statementsByDatabase.get(db);
  if (!statements) statementsByDatabase.set(db, (statements = new Map<string, Executable<unknown>>()));
  let statement = statements.get(name) as Executable<T> | undefined;
  if (!statement) statements.set(name, (statement = build(db).prepare(name)));
  return statement.execute(placeholders);
}
