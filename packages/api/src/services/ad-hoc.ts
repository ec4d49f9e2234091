import { AD_HOC_MATRIX_NAME, AD_HOC_STAGE_NAME, type DirectoryMember, DomainError, mayAddressApprover } from "@approvalmatrix/core";
import { type Queryable, and, apiKeys, eq, executePrepared, members, sql, tenants } from "@approvalmatrix/db";
import type { Actor } from "../context";
import { type SubmissionInput, type SubmissionPlan, planSubmission, submitterByRef } from "./plan-submission";

/** What a submission may carry beyond a matrix-routed one: a named approver and a time to live. */
export interface AnySubmissionInput extends Omit<SubmissionInput, "submitterRef"> {
  submitterRef?: string | undefined;
  approverRef?: string | undefined;
  approverEmail?: string | undefined;
  ttlSeconds?: number | undefined;
}

const directoryColumns = {
  id: members.id,
  name: members.name,
  externalRef: members.externalRef,
  department: members.department,
  managerId: members.managerId,
  active: members.active,
};

/** Who the request is addressed to, if anyone: a service token's approver, or the body's. */
function addressedApprover(actor: Actor, input: AnySubmissionInput): { ref: string } | { email: string } | { memberId: string } | null {
  if (actor.kind === "serviceToken") {
    // The header names the approver; a body naming another one is a mistake, not a second approver.
    if (input.approverEmail || (input.approverRef && input.approverRef !== actor.actingFor.ref)) {
      throw new DomainError(
        "forbidden",
        `This service token acts for ${actor.actingFor.name} (X-Approver-Email / X-Approver-Ref): its requests are addressed to them; leave approverRef and approverEmail out.`,
      );
    }
    return { memberId: actor.actingFor.memberId };
  }
  if (input.approverRef) return { ref: input.approverRef };
  if (input.approverEmail) return { email: input.approverEmail.trim().toLowerCase() };
  return null;
}

async function assertAdHocAllowed(db: Queryable, actor: Actor): Promise<void> {
  if (actor.kind !== "apiKey") return;
  const [row] = await db
    .select({ policy: tenants.adHocRequests, allowAdHoc: apiKeys.allowAdHoc })
    .from(tenants)
    .leftJoin(apiKeys, and(eq(apiKeys.tenantId, tenants.id), eq(apiKeys.id, actor.keyId)))
    .where(eq(tenants.id, actor.tenantId));
  if (!row || !mayAddressApprover(row.policy, { kind: "apiKey", allowAdHoc: row.allowAdHoc ?? false })) {
    throw new DomainError(
      "ad_hoc_not_allowed",
      row?.policy === "off"
        ? "Your tenant routes every request through a matrix: ad-hoc requests (approverRef / approverEmail) are off."
        : "Your tenant allows ad-hoc requests only from selected keys, and this key is not one of them.",
    );
  }
}

async function findApprover(db: Queryable, tenantId: string, who: { ref: string } | { email: string } | { memberId: string }) {
  const [row] = await db
    .select(directoryColumns)
    .from(members)
    .where(
      and(
        eq(members.tenantId, tenantId),
        "ref" in who
          ? eq(members.externalRef, who.ref)
          : "email" in who
            ? sql`lower(${members.email}) = ${who.email}`
            : eq(members.id, who.memberId),
      ),
    )
    .limit(1);
  const field = "email" in who ? "approverEmail" : "approverRef";
  const named = "ref" in who ? `externalRef "${who.ref}"` : "email" in who ? `email ${who.email}` : "this id";
  if (!row) throw new DomainError("unknown_approver", `No member of your tenant has ${named}.`, [{ field, message: "no such member" }]);
  if (!row.active)
    throw new DomainError("approver_inactive", `${row.name} (${named}) is deactivated.`, [{ field, message: "deactivated" }]);
  return row;
}

/**
 * Plans any submission: an ad-hoc one (one stage, the named approver; the submitter defaults to
 * that approver, as when an agent asks the person it works for) or a matrix-routed one.
 */
export async function planAnySubmission(db: Queryable, actor: Actor, input: AnySubmissionInput): Promise<SubmissionPlan> {
  const addressed = addressedApprover(actor, input);
  if (!addressed) {
    if (!input.submitterRef) {
      throw new DomainError("invalid_request", "Invalid request. submitterRef: required unless the request names its approver.", [
        { field: "submitterRef", message: "required" },
      ]);
    }
    return planSubmission(db, actor.tenantId, { ...input, submitterRef: input.submitterRef });
  }
  await assertAdHocAllowed(db, actor);
  const approver = await findApprover(db, actor.tenantId, addressed);
  let submitter: DirectoryMember = approver;
  let defaultCurrency: string | null;
  if (input.submitterRef) {
    const [row] = await executePrepared(db, "submission_submitter", submitterByRef, {
      tenantId: actor.tenantId,
      externalRef: input.submitterRef,
    });
    if (!row || !row.active) {
      throw new DomainError("unknown_submitter", `No active member has externalRef "${input.submitterRef}".`, [
        { field: "submitterRef", message: "unknown externalRef" },
      ]);
    }
    ({ defaultCurrency, ...submitter } = row);
  } else {
    const [tenant] = await db.select({ currency: tenants.defaultCurrency }).from(tenants).where(eq(tenants.id, actor.tenantId));
    defaultCurrency = tenant?.currency ?? null;
  }
  const amount = input.amount ?? null;
  return {
    submitter,
    matrix: { id: null, name: AD_HOC_MATRIX_NAME },
    stages: [
      {
        position: 1,
        name: AD_HOC_STAGE_NAME,
        rule: "any",
        quorum: null,
        approvers: { type: "members", memberIds: [approver.id] },
        eligible: [approver],
      },
    ],
    amount,
    currency: input.currency ? input.currency.toUpperCase() : amount !== null ? defaultCurrency : null,
    metadata: input.metadata ?? {},
  };
}
