import { DEADLINE_ACTIONS, STAGE_RULES, isDuration } from "@approvalmatrix/core";
import { z } from "zod";

const conditionValue = z.union([z.string().max(200), z.number(), z.boolean()]);
export const matrixCondition = z.discriminatedUnion("op", [
  z.object({ field: z.string().trim().min(1).max(100), op: z.literal("equals"), value: conditionValue }),
  z.object({ field: z.string().trim().min(1).max(100), op: z.literal("in"), values: z.array(conditionValue).min(1).max(100) }),
]);

export const approverSpecInput = z.discriminatedUnion("type", [
  z.object({ type: z.literal("members"), memberRefs: z.array(z.string().min(1)).min(1).max(100) }),
  z.object({ type: z.literal("manager") }),
  z.object({ type: z.literal("department"), department: z.string().trim().min(1).max(200) }),
]);

const stageRule = z.enum(STAGE_RULES);
const currencyCode = z
  .string()
  .regex(/^[A-Za-z]{3}$/)
  .nullish();

const duration = z.string().trim().refine(isDuration, "a duration such as 30m, 48h or 2d");

/** A stage's deadline: due after `dueIn`, reminders, and what happens when it runs out. */
export const stageDeadlineInput = z.object({
  dueIn: duration,
  remindBefore: duration.nullish(),
  remindEvery: duration.nullish(),
  onDeadline: z.enum(DEADLINE_ACTIONS).default("none"),
  escalateLevels: z.number().int().min(1).max(10).nullish(),
  fallbackRefs: z.array(z.string().trim().min(1).max(200)).max(20).nullish(),
  businessHours: z
    .boolean()
    .nullish()
    .describe("Count dueIn in business hours only (Mon–Fri 09:00–17:00 UTC; a day is one working day). Reminders stay in wall-clock time."),
});

export const stageInput = z
  .object({
    name: z.string().trim().min(1).max(100),
    approvers: approverSpecInput,
    rule: stageRule,
    quorum: z.number().int().min(1).max(100).nullish(),
    deadline: stageDeadlineInput.nullish(),
  })
  .refine((s) => (s.rule === "quorum") === (s.quorum != null), {
    message: "quorum is required with rule quorum, and only then",
    path: ["quorum"],
  });

export const matrixInput = z
  .strictObject({
    name: z.string().trim().min(1).max(200),
    requestType: z.string().trim().min(1).max(100),
    minAmount: z.number().min(0).nullish(),
    maxAmount: z.number().min(0).nullish(),
    currency: currencyCode,
    conditions: z.array(matrixCondition).max(50).default([]),
    priority: z.number().int().min(-1000).max(1000).default(0),
    active: z.boolean().default(true),
    stages: z.array(stageInput).min(1).max(20),
  })
  .refine((m) => m.minAmount == null || m.maxAmount == null || m.maxAmount > m.minAmount, {
    message: "maxAmount must be greater than minAmount",
    path: ["maxAmount"],
  });

export const matrixIdInput = z.object({ id: z.string().min(1) });
export const matrixUpdateInput = z.object({ id: z.string().min(1), matrix: matrixInput });
export const matrixSetActiveInput = z.object({ id: z.string().min(1), active: z.boolean() });
export const matrixSaved = z.object({ id: z.string() });
export const matrixActiveOutput = z.object({ id: z.string(), active: z.boolean() });

export const matrixView = z.object({
  id: z.string(),
  name: z.string(),
  requestType: z.string(),
  minAmount: z.number().nullable(),
  maxAmount: z.number().nullable(),
  currency: z.string().nullable(),
  conditions: z.array(matrixCondition),
  priority: z.number().int(),
  active: z.boolean(),
  createdAt: z.iso.datetime(),
  stages: z.array(
    z.object({
      position: z.number().int(),
      name: z.string(),
      rule: stageRule,
      quorum: z.number().int().nullable(),
      deadline: stageDeadlineInput.nullable(),
      approvers: z.union([
        z.object({ type: z.literal("members"), memberIds: z.array(z.string()) }),
        z.object({ type: z.literal("manager") }),
        z.object({ type: z.literal("department"), department: z.string() }),
      ]),
    }),
  ),
});

/** One matrix for the editor: named approvers with their refs and names. */
export const matrixDetail = matrixView.extend({
  stages: z.array(matrixView.shape.stages.element.extend({ approverRefs: z.array(z.object({ ref: z.string(), name: z.string() })) })),
});

export const matrixPreviewInput = z.object({
  id: z.string().min(1).nullish().describe("The matrix being edited; absent for a new one."),
  matrix: matrixInput,
  sample: z.object({
    submitterRef: z.string().trim().min(1).max(200),
    amount: z.number().min(0).nullish(),
    currency: currencyCode,
    metadata: z.record(z.string(), z.unknown()).optional(),
  }),
});

export const matrixPreviewOutput = z.union([
  z.object({
    routed: z.literal(true),
    matrixId: z.string(),
    matrixName: z.string(),
    isThisMatrix: z.boolean(),
    stages: z.array(
      z.object({
        position: z.number().int(),
        name: z.string(),
        rule: z.string(),
        quorum: z.number().nullable(),
        approvers: z.array(z.object({ ref: z.string(), name: z.string() })),
      }),
    ),
  }),
  z.object({ routed: z.literal(false), code: z.string(), message: z.string() }),
]);
