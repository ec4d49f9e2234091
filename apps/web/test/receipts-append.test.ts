// Appending to the receipt log from several writers. A signer signs on the head its own last
// append left and writes only if the head is still that (else it locks, rereads and signs again),
// so two instances deciding at once, an append that rolled back, and a key rotated elsewhere must
// all leave one gap-free log that verifies, signed by the active key.
import { must } from "@approvalmatrix/core";
import { and, asc, eq, receipts } from "@approvalmatrix/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SEED_PURCHASE_ORDER, type TestApp, api, startTestApp, unlimitedKey } from "./harness";

let app: TestApp;
let other: Awaited<ReturnType<TestApp["startInstance"]>>;
let key: string;
beforeAll(async () => {
  app = await startTestApp();
  other = await app.startInstance();
  key = await unlimitedKey(app);
});
afterAll(() => app.close());

const verifyLog = () => app.operator(app.demoTenantId).admin.receipts.verifyLog();
const positions = async () =>
  (
    await app.deps.db
      .select({ position: receipts.position })
      .from(receipts)
      .where(eq(receipts.tenantId, app.demoTenantId))
      .orderBy(asc(receipts.position))
  ).map((r) => r.position);

async function submit(on: { url: string }): Promise<string> {
  const created = await api(on, key)("POST", "/v1/requests", SEED_PURCHASE_ORDER);
  expect(created.status).toBe(201);
  return created.body.requestId;
}

async function decide(on: { url: string }, requestId: string, approverRef: string): Promise<void> {
  const answer = await api(on, key)("POST", `/v1/requests/${requestId}/decisions`, { approverRef, decision: "approved" });
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
}

async function receiptKeyIds(requestId: string): Promise<string[]> {
  const rows = await app.deps.db
    .select({ signatures: receipts.signatures })
    .from(receipts)
    .where(and(eq(receipts.tenantId, app.demoTenantId), eq(receipts.requestId, requestId)))
    .orderBy(asc(receipts.position));
  return rows.map((r) => must(r.signatures[0]).keyid);
}

describe("appending to one tenant's receipt log", () => {
  it("from two instances at once leaves positions without gaps and a log that verifies", async () => {
    const before = (await positions()).length;
    const instances = [app, other];
    const ids = await Promise.all(Array.from({ length: 6 }, (_, i) => submit(must(instances[i % 2]))));
    await Promise.all(ids.map((id, i) => decide(must(instances[i % 2]), id, "EMP-2001")));
    await Promise.all(ids.map((id, i) => decide(must(instances[(i + 1) % 2]), id, "EMP-3001")));
    // Per request: two decisions and the final approval.
    expect(await positions()).toEqual(Array.from({ length: before + 18 }, (_, i) => i));
    const verdict = await verifyLog();
    expect(verdict).toMatchObject({ valid: true, firstBadPosition: null, size: before + 18 });
    expect(verdict.checkpointsChecked).toBeGreaterThanOrEqual(6);
  });

  it("after an append that rolled back and another instance's append, signs on the real head", async () => {
    const requestId = await submit(app);
    const size = (await positions()).length;
    // This instance signs position `size` and remembers that head, but the transaction rolls back.
    const draft = {
      kind: "decision" as const,
      requestId,
      contentDigest: `sha256:${"0".repeat(64)}`,
      matrix: { id: null, name: "Rolled back" },
      stage: { position: 1, name: "Rolled back" },
      decision: "approved" as const,
      meaning: "approval",
      approver: { ref: "EMP-2001", name: "Rolled back" },
      commentDigest: null,
      actor: { type: "member", id: "rolled-back", name: "Rolled back" },
      decidedAt: new Date().toISOString(),
    };
    const rollback = new Error("roll back");
    await expect(
      app.deps.db.transaction(async (tx) => {
        await app.deps.receipts.append(tx, app.demoTenantId, requestId, [draft], { now: new Date(), checkpoint: false });
        throw rollback;
      }),
    ).rejects.toBe(rollback);
    // The other instance fills position `size` with a different entry …
    await decide(other, requestId, "EMP-2001");
    // … so this one's remembered head has the right size and the wrong last leaf.
    await decide(app, requestId, "EMP-3001");
    expect(await positions()).toEqual(Array.from({ length: size + 3 }, (_, i) => i));
    expect(await verifyLog()).toMatchObject({ valid: true, firstBadPosition: null, size: size + 3, verifiedTreeSize: size + 3 });
  });

  it("signs with the key another instance just activated", async () => {
    const warm = await submit(app);
    await decide(app, warm, "EMP-2001");
    const rotated = await other.deps.receipts.rotate();
    await decide(app, warm, "EMP-3001");
    const keyIds = await receiptKeyIds(warm);
    expect(keyIds).toHaveLength(3);
    expect(keyIds.slice(1)).toEqual([rotated.activated, rotated.activated]);
    expect(keyIds[0]).not.toBe(rotated.activated);
    expect((await verifyLog()).valid).toBe(true);
  });
});
