// Tampering with the receipt log directly in the database, as someone with the database's
// credentials could: the trigger refuses casual changes, and once it is dropped every edit,
// deletion, reordering or insertion is caught by the log walk (audit verify) at its position.
import { and, decisions, eq, receipts, sql } from "@approvalmatrix/db";
import { must } from "@approvalmatrix/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SEED_PURCHASE_ORDER, type TestApp, api, startTestApp, unlimitedKey } from "./harness";

let app: TestApp;
let call: ReturnType<typeof api>;
const requestIds: string[] = [];
beforeAll(async () => {
  app = await startTestApp();
  call = api(app, await unlimitedKey(app));
  for (let i = 0; i < 3; i++) {
    const created = await call("POST", "/v1/requests", { ...SEED_PURCHASE_ORDER, title: `Tamper ${i}` });
    const id: string = created.body.requestId;
    requestIds.push(id);
    await call("POST", `/v1/requests/${id}/decisions`, { approverRef: "EMP-2001", decision: "approved", comment: `comment ${i}` });
    await call("POST", `/v1/requests/${id}/decisions`, { approverRef: "EMP-3001", decision: "approved" });
  }
});
afterAll(() => app.close());

const operator = () => app.operator(app.demoTenantId);
const verifyLog = () => operator().admin.receipts.verifyLog();
const exec = (query: ReturnType<typeof sql>) => app.deps.db.execute(query);
const rows = () => app.deps.db.select().from(receipts).where(eq(receipts.tenantId, app.demoTenantId)).orderBy(receipts.position);

/** Runs `tamper` with the append-only trigger dropped (as a database owner could), then puts every row back. */
async function tampered(tamper: (all: Awaited<ReturnType<typeof rows>>) => Promise<void>): Promise<Awaited<ReturnType<typeof verifyLog>>> {
  const original = await rows();
  await exec(sql`alter table receipts disable trigger receipts_append_only`);
  try {
    await tamper(original);
    return await verifyLog();
  } finally {
    await exec(sql`delete from receipts where tenant_id = ${app.demoTenantId}`);
    await app.deps.db.insert(receipts).values(original);
    await exec(sql`alter table receipts enable trigger receipts_append_only`);
  }
}

describe("the receipt log under tampering", () => {
  it("starts intact: 9 entries, checkpoints at each outcome", async () => {
    const verdict = await verifyLog();
    expect(verdict).toMatchObject({ valid: true, size: 9, firstBadPosition: null, verifiedTreeSize: 9 });
    expect(verdict.checkpointsChecked).toBe(3);
  });

  it("the database refuses UPDATE, DELETE and TRUNCATE on receipts and checkpoints", async () => {
    await expect(exec(sql`update receipts set payload = payload where position = 0`)).rejects.toThrow();
    await expect(exec(sql`delete from receipts where position = 0`)).rejects.toThrow();
    await expect(exec(sql`truncate receipts`)).rejects.toThrow();
    await expect(exec(sql`delete from receipt_checkpoints`)).rejects.toThrow();
    expect((await verifyLog()).valid).toBe(true);
  });

  it("a one-byte change of an entry is caught at its position", async () => {
    const verdict = await tampered(async (all) => {
      const target = must(all[4]);
      const payload = Buffer.from(target.payload, "base64");
      const at = payload.indexOf("Bob Lee");
      payload[at] = "C".charCodeAt(0);
      await exec(sql`update receipts set payload = ${payload.toString("base64")} where id = ${target.id}`);
    });
    expect(verdict).toMatchObject({ valid: false, firstBadPosition: 4 });
    expect(verdict.problems.map((p) => p.reason).join("; ")).toMatch(/changed/);
    expect((await verifyLog()).valid).toBe(true);
  });

  it("a changed stored leaf hash or signature is caught", async () => {
    const leaf = await tampered(async (all) => {
      await exec(sql`update receipts set leaf_hash = ${"0".repeat(64)} where id = ${must(all[2]).id}`);
    });
    expect(leaf.firstBadPosition).toBe(2);
    const signature = await tampered(async (all) => {
      const target = must(all[6]);
      const [first] = target.signatures;
      const sig = Buffer.from(must(first).sig, "base64");
      sig[0] = (sig[0] ?? 0) ^ 1;
      await exec(
        sql`update receipts set signatures = ${JSON.stringify([{ ...first, sig: sig.toString("base64") }])}::jsonb where id = ${target.id}`,
      );
    });
    expect(signature.firstBadPosition).toBe(6);
  });

  it("a deleted entry is caught where it was, and deleted last entries by the checkpoint", async () => {
    const middle = await tampered(async (all) => {
      await exec(sql`delete from receipts where id = ${must(all[3]).id}`);
    });
    expect(middle).toMatchObject({ valid: false, firstBadPosition: 3 });
    const tail = await tampered(async () => {
      await exec(sql`delete from receipts where tenant_id = ${app.demoTenantId} and position >= 7`);
    });
    expect(tail).toMatchObject({ valid: false, firstBadPosition: 7 });
  });

  it("two reordered entries are caught at the first of them", async () => {
    const verdict = await tampered(async (all) => {
      const [a, b] = [must(all[5]), must(all[6])];
      await exec(sql`update receipts set position = -1 where id = ${a.id}`);
      await exec(sql`update receipts set position = 5 where id = ${b.id}`);
      await exec(sql`update receipts set position = 6 where id = ${a.id}`);
    });
    expect(verdict).toMatchObject({ valid: false, firstBadPosition: 5 });
  });

  it("an inserted entry (a copy of a genuine one) is caught where it was put", async () => {
    const verdict = await tampered(async (all) => {
      await exec(sql`update receipts set position = position + 1000 where tenant_id = ${app.demoTenantId} and position >= 2`);
      await exec(sql`update receipts set position = position - 999 where tenant_id = ${app.demoTenantId} and position >= 1000`);
      const copy = must(all[0]);
      await app.deps.db.insert(receipts).values({ ...copy, id: "rcp_inserted0000000000", position: 2 });
    });
    expect(verdict).toMatchObject({ valid: false, firstBadPosition: 2 });
  });

  it("a changed decision row no longer matches its receipt on the verify endpoint", async () => {
    const id = must(requestIds[1]);
    const before = await api(app, null)("GET", `/v1/requests/${id}/verify`);
    expect(before.body.valid).toBe(true);
    await exec(sql`update decisions set comment = 'comment X' where request_id = ${id} and stage = 1`);
    const after = await api(app, null)("GET", `/v1/requests/${id}/verify`);
    expect(after.body.valid).toBe(false);
    expect(after.body.reasons.join(" ")).toMatch(/position \d+: The stored decision differs/);
    await app.deps.db
      .update(decisions)
      .set({ comment: "comment 1" })
      .where(and(eq(decisions.requestId, id), eq(decisions.stage, 1)));
    // The request's content is bound too.
    await exec(sql`update requests set amount = 4501 where id = ${id}`);
    const content = await api(app, null)("GET", `/v1/requests/${id}/verify`);
    expect(content.body.valid).toBe(false);
    expect(content.body.reasons.join(" ")).toMatch(/content differs/);
    await exec(sql`update requests set amount = 4500 where id = ${id}`);
    expect((await api(app, null)("GET", `/v1/requests/${id}/verify`)).body.valid).toBe(true);
  });

  it("a receipt of the verify endpoint fails its inclusion proof when the log under it changed", async () => {
    const id = must(requestIds[0]);
    const verdict = await tampered(async (all) => {
      const target = must(all[1]);
      const payload = Buffer.from(target.payload, "base64");
      payload[payload.length - 5] = (payload[payload.length - 5] ?? 0) ^ 1;
      await exec(sql`update receipts set payload = ${payload.toString("base64")} where id = ${target.id}`);
      const res = await api(app, null)("GET", `/v1/requests/${id}/verify`);
      expect(res.body.valid).toBe(false);
      expect(res.body.receipts[1].valid).toBe(false);
    });
    expect(verdict.firstBadPosition).toBe(1);
  });
});
