import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { type Actor, createCaller, createTenant, deliveryQueueStats, findTenant, listTenants, seedDemoTenant } from "@approvalmatrix/api";
import { API_KEY_SCOPES, type ApiKeyScope, TENANT_ROLES, type TenantRole } from "@approvalmatrix/core";
import { readEnv } from "./env";
import { createJobWorker } from "./job-worker";
import { openRuntime } from "./runtime";

const USAGE = readFileSync(new URL("./cli-usage.txt", import.meta.url), "utf8");

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    tenant: { type: "string" },
    name: { type: "string" },
    slug: { type: "string" },
    currency: { type: "string" },
    ref: { type: "string" },
    email: { type: "string" },
    department: { type: "string" },
    manager: { type: "string" },
    search: { type: "string" },
    file: { type: "string" },
    scopes: { type: "string" },
    "rate-limit": { type: "string" },
    expires: { type: "string" },
    id: { type: "string" },
    role: { type: "string" },
    member: { type: "string" },
    "password-stdin": { type: "boolean", default: false },
    once: { type: "boolean", default: false },
    json: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});

class UsageError extends Error {}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function required(name: keyof typeof values): string {
  const value = values[name];
  if (typeof value !== "string" || value.trim() === "") throw new UsageError(`--${name} is required.`);
  return value;
}

function print(data: unknown, table?: Record<string, unknown>[]): void {
  if (values.json || !table) return console.log(JSON.stringify(data, null, 2));
  const [first] = table;
  if (!first) return console.log("(none)");
  const columns = Object.keys(first);
  const widths = columns.map((c) => Math.max(c.length, ...table.map((row) => cellText(row[c]).length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join("  ");
  console.log(line(columns));
  console.log(line(widths.map((w) => "─".repeat(w))));
  for (const row of table) console.log(line(columns.map((c) => cellText(row[c]))));
}

/** A table cell: empty for a missing value, JSON for a nested one (never "[object Object]"). */
function cellText(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return value.toString();
  if (value instanceof Date) return value.toString();
  return JSON.stringify(value);
}

async function main(): Promise<number> {
  const [area, command] = positionals;
  if (values.help || !area) {
    process.stdout.write(USAGE);
    return area ? 0 : 1;
  }
  const env = readEnv();
  // `pnpm cli` runs in apps/web; a path the caller typed is relative to where they typed it.
  const callerPath = (path: string) => resolve(env.INIT_CWD ?? process.cwd(), path);
  const runtime = await openRuntime(env, "the ApprovalMatrix CLI");
  try {
    const { deps } = runtime;
    const tenantCaller = async () => {
      const tenant = await findTenant(deps.db, required("tenant"));
      if (!tenant) throw new UsageError(`No tenant "${values.tenant}". See: pnpm cli tenants list`);
      const actor: Actor = { kind: "operator", tenantId: tenant.id };
      return createCaller({ deps, requestId: "cli", authorization: null, credentialInQuery: false, response: { headers: {} }, actor });
    };

    switch (`${area} ${command ?? ""}`.trim()) {
      case "tenants create": {
        const tenant = await createTenant(deps.db, { name: required("name"), slug: required("slug"), defaultCurrency: values.currency });
        print(tenant, [{ id: tenant.id, slug: tenant.slug, name: tenant.name, currency: tenant.defaultCurrency }]);
        return 0;
      }
      case "tenants list": {
        const tenants = await listTenants(deps.db);
        print(
          tenants,
          tenants.map((t) => ({ id: t.id, slug: t.slug, name: t.name, currency: t.defaultCurrency })),
        );
        return 0;
      }
      case "users create": {
        const role = required("role");
        if (!TENANT_ROLES.includes(role as TenantRole)) throw new UsageError(`--role must be one of ${TENANT_ROLES.join(", ")}.`);
        const password = values["password-stdin"] ? (await readStdin()).replace(/\r?\n$/, "") : undefined;
        // The admin app's invite, called as the operator (who counts as an owner).
        const created = await (
          await tenantCaller()
        ).admin.users.create({
          email: required("email"),
          name: required("name"),
          role: role as TenantRole,
          memberRef: values.member,
          password,
        });
        if (values.json) return (print(created), 0);
        console.log(`Created ${created.role} ${created.email} (${created.id}) in tenant ${values.tenant}.`);
        if (created.initialPassword) {
          console.log(`\n  One-time password: ${created.initialPassword}\n`);
          console.log("Shown once: hand it over in person or through a password manager; the user signs in with it at /sign-in.");
        }
        return 0;
      }
      case "users list": {
        const list = await (await tenantCaller()).admin.users.list();
        print(
          list,
          list.map(({ id, email, name, role, memberRef }) => ({ id, email, name, role, member: memberRef ?? "" })),
        );
        return 0;
      }
      case "members create": {
        const member = await (
          await tenantCaller()
        ).admin.members.create({
          name: required("name"),
          externalRef: required("ref"),
          email: values.email,
          department: values.department,
          managerRef: values.manager,
        });
        print(member, [member]);
        return 0;
      }
      case "members list": {
        const page = await (await tenantCaller()).admin.members.list({ search: values.search, limit: 200 });
        print(
          page,
          page.members.map(({ id, externalRef, name, department, active }) => ({ id, externalRef, name, department, active })),
        );
        return 0;
      }
      case "matrices create": {
        const definition: unknown = JSON.parse(readFileSync(callerPath(required("file")), "utf8"));
        const created = await (await tenantCaller()).admin.matrices.create(definition as never);
        print(created, [created]);
        return 0;
      }
      case "matrices list": {
        const list = await (await tenantCaller()).admin.matrices.list();
        print(
          list,
          list.map((m) => ({
            id: m.id,
            name: m.name,
            requestType: m.requestType,
            band: `${m.minAmount ?? "-"}..${m.maxAmount ?? "-"} ${m.currency ?? ""}`,
            priority: m.priority,
            stages: m.stages.length,
            active: m.active,
          })),
        );
        return 0;
      }
      case "keys create": {
        const scopes = required("scopes")
          .split(",")
          .map((s) => s.trim());
        const unknown = scopes.filter((s) => !API_KEY_SCOPES.includes(s as ApiKeyScope));
        if (unknown.length) throw new UsageError(`Unknown scope(s): ${unknown.join(", ")}. Known: ${API_KEY_SCOPES.join(", ")}.`);
        const created = await (
          await tenantCaller()
        ).admin.apiKeys.create({
          name: required("name"),
          scopes: scopes as ApiKeyScope[],
          rateLimitPerMinute: values["rate-limit"] ? Number(values["rate-limit"]) : undefined,
          expiresAt: values.expires,
        });
        if (values.json) return (print(created), 0);
        const limits = Object.entries(created.rateLimits).map(([bucket, limit]) => `${bucket} ${limit}/min`);
        console.log(`Created ${created.id} (${created.scopes.join(", ")}; ${limits.join(", ")}).`);
        console.log(`\n  ${created.key}\n`);
        console.log("This is the only time the full key is shown. Store it in a secrets manager now.");
        return 0;
      }
      case "keys list": {
        const keys = await (await tenantCaller()).admin.apiKeys.list();
        print(
          keys,
          keys.map((k) => ({
            id: k.id,
            name: k.name,
            start: `${k.start}…`,
            scopes: k.scopes.join(","),
            status: k.status,
            lastUsed: k.lastUsedAt ?? "never",
          })),
        );
        return 0;
      }
      case "keys revoke": {
        const revoked = await (await tenantCaller()).admin.apiKeys.revoke({ id: required("id") });
        print(revoked, [{ id: revoked.id, name: revoked.name, status: revoked.status, revokedAt: revoked.revokedAt }]);
        return 0;
      }
      case "audit verify": {
        const tenant = await findTenant(deps.db, required("tenant"));
        if (!tenant) throw new UsageError(`No tenant "${values.tenant}". See: pnpm cli tenants list`);
        const started = Date.now();
        const caller = createCaller({
          deps,
          requestId: "cli",
          authorization: null,
          credentialInQuery: false,
          response: { headers: {} },
          actor: { kind: "operator", tenantId: tenant.id },
          // Progress on stderr, so --json output stays clean.
          onProgress: ({ done, total }) => process.stderr.write(`\rverifying ${done}/${total} entries…`),
        });
        const verdict = await caller.admin.receipts.verifyLog();
        process.stderr.write("\n");
        if (values.json) print(verdict);
        else if (verdict.valid) {
          console.log(
            `Log of ${tenant.slug} is intact: ${verdict.size} entries, ${verdict.checkpointsChecked} checkpoints, largest verified checkpoint ${verdict.verifiedTreeSize} (${Date.now() - started} ms).`,
          );
        } else {
          console.log(`Log of ${tenant.slug} is NOT intact: first bad position ${verdict.firstBadPosition} of ${verdict.size}.`);
          for (const problem of verdict.problems.slice(0, 20)) console.log(`  position ${problem.position}: ${problem.reason}`);
          if (verdict.problems.length > 20) console.log(`  … and ${verdict.problems.length - 20} more`);
        }
        return verdict.valid ? 0 : 3;
      }
      case "signing-keys list": {
        const keys = await deps.receipts.keySet();
        print(
          keys,
          keys.map((k) => ({
            kid: k.kid,
            status: k.status,
            created: k.createdAt,
            activated: k.activatedAt ?? "",
            retired: k.retiredAt ?? "",
          })),
        );
        return 0;
      }
      case "signing-keys rotate": {
        const rotated = await deps.receipts.rotate();
        if (values.json) return (print(rotated), 0);
        console.log(`Now signing with ${rotated.activated} (it was published as the next key).`);
        if (rotated.retired) console.log(`Retired ${rotated.retired}: still published, so what it signed stays verifiable.`);
        console.log(`Published ${rotated.next} as the next key.`);
        return 0;
      }
      case "worker": {
        const worker = createJobWorker(deps, env);
        if (values.once) {
          const ran = await worker.runDue();
          const stats = await worker.stats();
          const deliveries = await deliveryQueueStats(deps.db, deps.clock.now());
          print({ ran, ...stats, webhookDeliveries: deliveries }, [
            {
              ran,
              queued: stats.depth,
              due: stats.due,
              failed: stats.failed,
              webhooksPending: deliveries.pending,
              webhooksDue: deliveries.due,
            },
          ]);
          return 0;
        }
        await worker.start();
        console.log(`Job worker ${worker.workerId} running (Ctrl-C to stop).`);
        await new Promise<void>((resolve) => {
          process.once("SIGINT", resolve);
          process.once("SIGTERM", resolve);
        });
        await worker.stop(10_000);
        return 0;
      }
      case "demo seed": {
        if (await findTenant(deps.db, "acme")) throw new UsageError('The demo tenant "acme" exists already.');
        const seeded = await seedDemoTenant(deps);
        print(seeded, [{ tenant: "acme", tenantId: seeded.tenantId, apiKey: seeded.apiKey }]);
        return 0;
      }
      default:
        throw new UsageError(`Unknown command "${area} ${command ?? ""}".`);
    }
  } finally {
    await runtime.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError) console.error(`${error.message}\n\n${USAGE}`);
    else if (error && typeof error === "object" && "message" in error) console.error(`Error: ${String(error.message)}`);
    else console.error(error);
    process.exit(error instanceof UsageError ? 2 : 1);
  },
);
