export * from "./client";
export { migrateDatabase, migrationsFolder } from "./migrate";
export * as schema from "./schema/index";
export * from "./schema/index";
// One copy of drizzle's operators for the whole workspace (two copies break its types).
export { and, asc, count, desc, eq, gt, gte, ilike, inArray, isNull, isNotNull, like, lt, lte, ne, or, sql } from "drizzle-orm";
export { alias } from "drizzle-orm/pg-core";
export type { SQL } from "drizzle-orm";
export { executePrepared } from "./prepared";
export { timestamptz } from "./instant";
