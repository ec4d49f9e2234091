import { API_KEY_SCOPES } from "@approvalmatrix/core";
import { generateOneTimePassword } from "@approvalmatrix/auth";
import { type Database, tenants } from "@approvalmatrix/db";
import type { Actor } from "../context";
import type { ApiDeps } from "../context";
import { createCaller } from "../root";
import { createTenant } from "../services/tenants";

export const DEMO_TENANT_SLUG = "acme";

/** People of the demo tenant: the REST reference's examples (EMP-1042, Jane Smith, Bob Lee) work as written. */
const DEMO_MEMBERS = [
  { externalRef: "EMP-3001", name: "Bob Lee", email: "bob.lee@acme.example", department: "Finance" },
  { externalRef: "EMP-2001", name: "Jane Smith", email: "jane.smith@acme.example", department: "Engineering", managerRef: "EMP-3001" },
  { externalRef: "EMP-1042", name: "Alex Kim", email: "alex.kim@acme.example", department: "Engineering", managerRef: "EMP-2001" },
  { externalRef: "EMP-1043", name: "Maria Garcia", email: "maria.garcia@acme.example", department: "Engineering", managerRef: "EMP-2001" },
  { externalRef: "EMP-3002", name: "Chen Wei", email: "chen.wei@acme.example", department: "Finance", managerRef: "EMP-3001" },
  { externalRef: "EMP-4001", name: "Priya Patel", email: "priya.patel@acme.example", department: "IT", managerRef: "EMP-3001" },
];

export interface DemoSeed {
  tenantId: string;
  apiKey: string;
  /** Sign-in for the admin app: the owner, and the approvers linked to Jane Smith and Bob Lee. */
  admin: { email: string; password: string };
  approvers: { email: string; password: string; memberRef: string }[];
}

export const DEMO_OWNER_EMAIL = "admin@acme.example";

/** Creates the demo tenant through the same procedures the admin app uses. */
export async function seedDemoTenant(deps: ApiDeps): Promise<DemoSeed> {
  const tenant = await createTenant(deps.db, { name: "Acme Corp (demo)", slug: DEMO_TENANT_SLUG, defaultCurrency: "USD" });
  const actor: Actor = { kind: "operator", tenantId: tenant.id };
  const caller = createCaller({ deps, requestId: "seed", authorization: null, credentialInQuery: false, response: { headers: {} }, actor });

  for (const member of DEMO_MEMBERS) await caller.admin.members.create(member);

  await caller.admin.matrices.create({
    name: "Engineering PO Matrix",
    requestType: "purchase_order",
    maxAmount: 10_000,
    currency: "USD",
    conditions: [{ field: "department", op: "in", values: ["Engineering", "IT"] }],
    priority: 10,
    stages: [
      { name: "Manager approval", approvers: { type: "manager" }, rule: "any" },
      { name: "Finance approval", approvers: { type: "members", memberRefs: ["EMP-3001"] }, rule: "any" },
    ],
  });
  await caller.admin.matrices.create({
    name: "Large purchase orders",
    requestType: "purchase_order",
    minAmount: 10_000,
    currency: "USD",
    priority: 5,
    stages: [
      { name: "Manager approval", approvers: { type: "manager" }, rule: "any" },
      { name: "Finance team", approvers: { type: "department", department: "Finance" }, rule: "all" },
    ],
  });
  await caller.admin.matrices.create({
    name: "Time off",
    requestType: "time_off",
    stages: [{ name: "Manager approval", approvers: { type: "manager" }, rule: "any" }],
  });

  const key = await caller.admin.apiKeys.create({ name: "Demo key", scopes: [...API_KEY_SCOPES] });

  // Generated passwords (shown by the start command): a demo never ships a guessable one. Given
  // as chosen passwords, not one-time ones, so the demo sign-ins need no forced change.
  const ownerPassword = generateOneTimePassword();
  const owner = await caller.admin.users.create({ email: DEMO_OWNER_EMAIL, name: "Acme Admin", role: "owner", password: ownerPassword });
  const approvers: DemoSeed["approvers"] = [];
  for (const person of DEMO_MEMBERS.filter((m) => m.externalRef === "EMP-2001" || m.externalRef === "EMP-3001")) {
    const password = generateOneTimePassword();
    const user = await caller.admin.users.create({
      email: person.email,
      name: person.name,
      role: "approver",
      memberRef: person.externalRef,
      password,
    });
    approvers.push({ email: user.email, password, memberRef: person.externalRef });
  }
  return { tenantId: tenant.id, apiKey: key.key, admin: { email: owner.email, password: ownerPassword }, approvers };
}

export async function hasAnyTenant(db: Database): Promise<boolean> {
  const rows = await db.select({ id: tenants.id }).from(tenants).limit(1);
  return rows.length > 0;
}
