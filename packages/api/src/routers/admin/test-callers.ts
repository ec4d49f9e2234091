/**
 * In-process callers for the admin router tests: a fresh database (PGlite, or PostgreSQL when
 * TEST_DATABASE_URL is set), a tenant, and callers acting as the operator or as a signed-in user.
 */
import { newId, systemClock, type TenantRole } from "@approvalmatrix/core";
import { users } from "@approvalmatrix/db";
import { type TestDatabase, createTestDatabase } from "@approvalmatrix/db/testing";
import type { Actor, ApiDeps } from "../../context";
import { MemoryRateLimitStore } from "../../rate-limit/stores";
import { RateLimiter } from "../../rate-limit/rate-limiter";
import { createCaller } from "../../root";
import { createTenant } from "../../services/tenants";

export interface AdminTestBed {
  database: TestDatabase;
  deps: ApiDeps;
  tenantId: string;
  caller(actor?: Actor): ReturnType<typeof createCaller>;
  /** A caller signed in as a new user of the tenant with `role`. */
  userCaller(role: TenantRole): Promise<ReturnType<typeof createCaller>>;
  close(): Promise<void>;
}

export async function startAdminTestBed(): Promise<AdminTestBed> {
  const database = await createTestDatabase();
  const deps: ApiDeps = {
    db: database.db,
    apiKeyHashSecret: "test-secret-for-in-process-admin-router-tests",
    rateLimiter: new RateLimiter(new MemoryRateLimitStore()),
    maxBodyBytes: 1_000_000,
    clock: systemClock,
  };
  const tenant = await createTenant(database.db, { name: "Acme", slug: `acme-${newId("tenant").slice(4, 12).toLowerCase()}` });
  const caller = (actor: Actor = { kind: "operator", tenantId: tenant.id }) =>
    createCaller({ deps, requestId: "test", authorization: null, credentialInQuery: false, response: { headers: {} }, actor });
  return {
    database,
    deps,
    tenantId: tenant.id,
    caller,
    async userCaller(role) {
      const userId = newId("user");
      await database.db
        .insert(users)
        .values({ id: userId, tenantId: tenant.id, email: `${userId}@acme.example`.toLowerCase(), name: role, role });
      return caller({ kind: "user", tenantId: tenant.id, userId, role, memberId: null });
    },
    close: () => database.destroy(),
  };
}

/** What a caller's refusal carries: the machine code, the field issues and the HTTP status. */
export async function refusal(call: Promise<unknown>): Promise<{ code: string; status: number; fields: Record<string, string> }> {
  try {
    await call;
  } catch (error) {
    const cause = (error as { cause?: { code?: string; status?: number; issues?: { field: string; message: string }[] } }).cause;
    if (!cause?.code || !cause.status) throw error;
    return { code: cause.code, status: cause.status, fields: Object.fromEntries((cause.issues ?? []).map((i) => [i.field, i.message])) };
  }
  throw new Error("expected the call to be refused");
}
