import { must, newId } from "@approvalmatrix/core";
import { type Database, eq, tenants } from "@approvalmatrix/db";

/** Platform-level: tenants are created by the operator (CLI, seed), not by a tenant's own actors. */
export async function createTenant(db: Database, input: { name: string; slug: string; defaultCurrency?: string }) {
  const [tenant] = await db
    .insert(tenants)
    .values({ id: newId("tenant"), name: input.name, slug: input.slug, defaultCurrency: (input.defaultCurrency ?? "USD").toUpperCase() })
    .returning();
  return must(tenant, "the inserted tenant");
}

export async function findTenant(db: Database, idOrSlug: string) {
  const [tenant] = await db
    .select()
    .from(tenants)
    .where(idOrSlug.startsWith("ten_") ? eq(tenants.id, idOrSlug) : eq(tenants.slug, idOrSlug))
    .limit(1);
  return tenant ?? null;
}

export async function listTenants(db: Database) {
  return db.select().from(tenants).orderBy(tenants.createdAt);
}
