import { z } from "zod";
import { externalRef, isoDateTime, memberRef } from "../../contracts/requests";

export const delegationView = z.object({
  id: z.string(),
  member: memberRef.extend({ id: z.string() }).describe("Who is away."),
  delegate: memberRef.extend({ id: z.string() }).describe("Who decides for them meanwhile."),
  startsAt: isoDateTime,
  endsAt: isoDateTime.nullable().describe("Null: until revoked."),
  reason: z.string().nullable(),
  active: z.boolean().describe("In force now."),
  revokedAt: isoDateTime.nullable(),
  createdAt: isoDateTime,
});

export const createDelegationInput = z.strictObject({
  memberRef: externalRef.describe("The member who is away (approvers in the admin app: themselves)."),
  delegateRef: externalRef.describe("Who decides for them; a chain of delegations is followed to its end, a loop is refused."),
  startsAt: isoDateTime.optional().describe("Default: now."),
  endsAt: isoDateTime.nullish().describe("Default: until revoked."),
  reason: z.string().trim().max(500).nullish(),
});

export const delegationIdInput = z.strictObject({ delegationId: z.string().min(1).max(100) });

export const delegationList = z.object({ data: z.array(delegationView) });

export const reassignInput = z.strictObject({
  requestId: z.string().min(1).max(100),
  fromRef: externalRef.describe("The approver of the open stage to replace (one who has not decided)."),
  toRef: externalRef.describe("The member who takes the seat; never the submitter."),
  reason: z.string().trim().min(1).max(1000).describe("Why; kept in the audit log and told to the new approver."),
});

export const reassignOutput = z.object({
  requestId: z.string(),
  stage: z.number().int(),
  fromRef: z.string(),
  toRef: z.string(),
  reason: z.string(),
});
