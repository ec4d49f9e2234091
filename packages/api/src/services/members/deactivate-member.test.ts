import { must } from "@approvalmatrix/core";
import { and, auditLog, eq, requestStages } from "@approvalmatrix/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Actor } from "../../context";
import { type AdminTestBed, startAdminTestBed } from "../../routers/admin/test-callers";
import { createDelegation, revokeDelegation } from "../delegations/delegations";
import { submitRequest } from "../submit-request";
import { deactivateMember } from "./deactivate-member";

/**
 * The `delegate` deactivation policy: a deactivated approver's open stages go to the end of their
 * delegation chain in force, or to their manager (saying why) when there is no usable delegate.
 */
let bed: AdminTestBed;
let operator: Actor;
const HOUR = 3_600_000;
beforeAll(async () => {
  bed = await startAdminTestBed();
  operator = { kind: "operator", tenantId: bed.tenantId };
  const admin = bed.caller().admin;
  await admin.members.create({ name: "Mona Manager", externalRef: "MGR" });
  await admin.matrices.create({
    name: "Purchases",
    requestType: "purchase_order",
    stages: [{ name: "Manager", rule: "any", approvers: { type: "manager" } }],
  });
  await admin.directory.updateSettings({ deactivationPolicy: "delegate" });
});
afterAll(() => bed.close());

/** An approver (managed by MGR) with a request of their report waiting on them. */
async function approverWithOpenStage(ref: string) {
  const admin = bed.caller().admin;
  const approver = await admin.members.create({ name: `Approver ${ref}`, externalRef: ref, managerRef: "MGR" });
  await admin.members.create({ name: `Report of ${ref}`, externalRef: `${ref}-R`, managerRef: ref });
  const { requestId } = await submitRequest(bed.deps.db, operator, {
    submitterRef: `${ref}-R`,
    requestType: "purchase_order",
    title: "Desk",
  });
  return { approver, requestId };
}

async function stageOf(requestId: string) {
  const [stage] = await bed.deps.db
    .select({ approverIds: requestStages.approverIds, delegatedFrom: requestStages.delegatedFrom })
    .from(requestStages)
    .where(and(eq(requestStages.requestId, requestId), eq(requestStages.position, 1)));
  return must(stage);
}

async function repointRecord(requestId: string) {
  const rows = await bed.deps.db
    .select({ data: auditLog.data })
    .from(auditLog)
    .where(and(eq(auditLog.targetId, requestId), eq(auditLog.action, "request.stage_repointed")));
  return rows.map((r) => r.data);
}

const idOf = async (ref: string) =>
  must((await bed.caller().admin.members.list({ search: ref })).members.find((m) => m.externalRef === ref)).id;

describe("deactivation policy `delegate`", () => {
  it("hands the open stage to the end of the delegation chain in force, and records the chain", async () => {
    const { approver, requestId } = await approverWithOpenStage("JANE");
    const admin = bed.caller().admin;
    await admin.members.create({ name: "Bob", externalRef: "BOB" });
    await admin.members.create({ name: "Chen", externalRef: "CHEN" });
    // Out of office from tomorrow: the stage that is already open stays with Jane until then.
    const now = new Date();
    const tomorrow = new Date(now.getTime() + 24 * HOUR);
    await createDelegation(
      bed.deps.db,
      operator,
      { member: { ref: "JANE" }, delegate: { ref: "BOB" }, startsAt: tomorrow.toISOString() },
      now,
    );
    await createDelegation(
      bed.deps.db,
      operator,
      { member: { ref: "BOB" }, delegate: { ref: "CHEN" }, startsAt: tomorrow.toISOString() },
      now,
    );
    expect((await stageOf(requestId)).approverIds).toEqual([approver.id]);

    const { repointed } = await deactivateMember(bed.deps.db, operator, approver.id, new Date(tomorrow.getTime() + HOUR));
    const chen = await idOf("CHEN");
    expect(repointed).toEqual([{ requestId, stage: 1, toMemberId: chen, via: "delegate" }]);
    expect((await stageOf(requestId)).approverIds).toEqual([chen]);
    expect(await repointRecord(requestId)).toEqual([
      { stage: 1, from: "JANE", to: "CHEN", reason: "member_deactivated", via: "delegate", chain: ["JANE", "BOB", "CHEN"] },
    ]);
  });

  it("without a delegate in force, falls back to the manager and says so", async () => {
    const { approver, requestId } = await approverWithOpenStage("KIM");
    await deactivateMember(bed.deps.db, operator, approver.id);
    expect((await stageOf(requestId)).approverIds).toEqual([await idOf("MGR")]);
    expect(await repointRecord(requestId)).toEqual([
      { stage: 1, from: "KIM", to: "MGR", reason: "member_deactivated", via: "manager", fallback: "no_delegate" },
    ]);
  });

  it("a chain ending at a deactivated member falls back to the manager", async () => {
    const { approver, requestId } = await approverWithOpenStage("LEE");
    const gone = await bed.caller().admin.members.create({ name: "Gone", externalRef: "GONE" });
    const now = new Date();
    const soon = new Date(now.getTime() + HOUR);
    await createDelegation(bed.deps.db, operator, { member: { ref: "LEE" }, delegate: { ref: "GONE" }, startsAt: soon.toISOString() }, now);
    await deactivateMember(bed.deps.db, operator, gone.id, now);
    await deactivateMember(bed.deps.db, operator, approver.id, new Date(soon.getTime() + HOUR));
    expect((await stageOf(requestId)).approverIds).toEqual([await idOf("MGR")]);
    expect(await repointRecord(requestId)).toEqual([
      { stage: 1, from: "LEE", to: "MGR", reason: "member_deactivated", via: "manager", fallback: "delegate_inactive" },
    ]);
  });

  it("keeps seats the delegate already holds for the member with the delegate for good", async () => {
    const { approver, requestId } = await approverWithOpenStage("PAT");
    await bed.caller().admin.members.create({ name: "Sam", externalRef: "SAM" });
    const delegation = await createDelegation(bed.deps.db, operator, { member: { ref: "PAT" }, delegate: { ref: "SAM" } });
    const sam = await idOf("SAM");
    expect(await stageOf(requestId)).toEqual({ approverIds: [sam], delegatedFrom: { [sam]: approver.id } });
    await deactivateMember(bed.deps.db, operator, approver.id);
    expect(await stageOf(requestId)).toEqual({ approverIds: [sam], delegatedFrom: {} });
    expect(await repointRecord(requestId)).toEqual([
      { stage: 1, from: "PAT", to: "SAM", reason: "member_deactivated", via: "delegate", kept: true },
    ]);
    // Ending the delegation no longer hands the seat back to someone who has left.
    await revokeDelegation(bed.deps.db, operator, delegation.id);
    expect((await stageOf(requestId)).approverIds).toEqual([sam]);
  });
  it("never hands a stage to the request's own submitter: the seat stays, and the audit says why", async () => {
    const { approver, requestId } = await approverWithOpenStage("QUIN");
    const now = new Date();
    const tomorrow = new Date(now.getTime() + 24 * HOUR);
    // Quin's delegate is the very person whose request waits on Quin.
    await createDelegation(
      bed.deps.db,
      operator,
      { member: { ref: "QUIN" }, delegate: { ref: "QUIN-R" }, startsAt: tomorrow.toISOString() },
      now,
    );
    const { repointed } = await deactivateMember(bed.deps.db, operator, approver.id, new Date(tomorrow.getTime() + HOUR));
    expect(repointed).toEqual([]);
    expect((await stageOf(requestId)).approverIds).toEqual([approver.id]);
    const skipped = await bed.deps.db
      .select({ data: auditLog.data })
      .from(auditLog)
      .where(and(eq(auditLog.targetId, requestId), eq(auditLog.action, "request.stage_repoint_skipped")));
    expect(skipped.map((r) => r.data)).toEqual([
      {
        stage: 1,
        from: "QUIN",
        to: "QUIN-R",
        reason: "member_deactivated",
        via: "delegate",
        chain: ["QUIN", "QUIN-R"],
        skipped: "submitter",
      },
    ]);
  });
  it("under the manager policy too, a seat the delegate holds stays with the delegate after the delegation ends", async () => {
    await bed.caller().admin.directory.updateSettings({ deactivationPolicy: "manager" });
    try {
      const { approver, requestId } = await approverWithOpenStage("RAE");
      await bed.caller().admin.members.create({ name: "Uma", externalRef: "UMA" });
      const delegation = await createDelegation(bed.deps.db, operator, { member: { ref: "RAE" }, delegate: { ref: "UMA" } });
      const uma = await idOf("UMA");
      await deactivateMember(bed.deps.db, operator, approver.id);
      expect(await stageOf(requestId)).toEqual({ approverIds: [uma], delegatedFrom: {} });
      await revokeDelegation(bed.deps.db, operator, delegation.id);
      expect((await stageOf(requestId)).approverIds).toEqual([uma]);
    } finally {
      await bed.caller().admin.directory.updateSettings({ deactivationPolicy: "delegate" });
    }
  });
});
