import { newId } from "@approvalmatrix/core";
import { and, asc, desc, eq, inArray, matrices, matrixStages, members } from "@approvalmatrix/db";
import { z } from "zod";
import { apiError } from "../../errors";
import { tenantProcedure } from "../../procedures";
import { writeAudit } from "../../services/audit";
import { router } from "../../trpc";

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

export const stageInput = z
  .object({
    name: z.string().trim().min(1).max(100),
    approvers: approverSpecInput,
    rule: z.enum(["any", "all", "quorum"]),
    quorum: z.number().int().min(1).max(100).nullish(),
  })
  .refine((s) => (s.rule === "quorum") === (s.quorum != null), { message: "quorum is required with rule quorum, and only then", path: ["quorum"] });

export const matrixInput = z
  .strictObject({
    name: z.string().trim().min(1).max(200),
    requestType: z.string().trim().min(1).max(100),
    minAmount: z.number().min(0).nullish(),
    maxAmount: z.number().min(0).nullish(),
    currency: z.string().regex(/^[A-Za-z]{3}$/).nullish(),
    conditions: z.array(matrixCondition).max(50).default([]),
    priority: z.number().int().min(-1000).max(1000).default(0),
    active: z.boolean().default(true),
    stages: z.array(stageInput).min(1).max(20),
  })
  .refine((m) => m.minAmount == null || m.maxAmount == null || m.maxAmount > m.minAmount, {
    message: "maxAmount must be greater than minAmount",
    path: ["maxAmount"],
  });

const matrixView = z.object({
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
      rule: z.enum(["any", "all", "quorum"]),
      quorum: z.number().int().nullable(),
      approvers: z.union([
        z.object({ type: z.literal("members"), memberIds: z.array(z.string()) }),
        z.object({ type: z.literal("manager") }),
        z.object({ type: z.literal("department"), department: z.string() }),
      ]),
    }),
  ),
});

export const matricesRouter = router({
  create: tenantProcedure("admin")
    .input(matrixInput)
    .output(z.object({ id: z.string() }))
    .mutation(async ({ ctx, input }) => {
      const refs = [...new Set(input.stages.flatMap((s) => (s.approvers.type === "members" ? s.approvers.memberRefs : [])))];
      return ctx.deps.db.transaction(async (tx) => {
        const found = refs.length
          ? await tx.select({ id: members.id, ref: members.externalRef }).from(members).where(and(eq(members.tenantId, ctx.tenantId), inArray(members.externalRef, refs)))
          : [];
        const idByRef = new Map(found.map((m) => [m.ref, m.id]));
        const missing = refs.filter((r) => !idByRef.has(r));
        if (missing.length) {
          throw apiError("invalid_request", `Unknown approver externalRef(s): ${missing.join(", ")}.`, [{ field: "stages.approvers.memberRefs", message: "unknown externalRef" }]);
        }
        const id = newId("matrix");
        await tx.insert(matrices).values({
          id,
          tenantId: ctx.tenantId,
          name: input.name,
          requestType: input.requestType,
          minAmount: input.minAmount ?? null,
          maxAmount: input.maxAmount ?? null,
          currency: input.currency?.toUpperCase() ?? null,
          conditions: input.conditions,
          priority: input.priority,
          active: input.active,
        });
        await tx.insert(matrixStages).values(
          input.stages.map((stage, index) => ({
            matrixId: id,
            tenantId: ctx.tenantId,
            position: index + 1,
            name: stage.name,
            rule: stage.rule,
            quorum: stage.quorum ?? null,
            approvers:
              stage.approvers.type === "members"
                ? { type: "members" as const, memberIds: stage.approvers.memberRefs.map((r) => idByRef.get(r)!) }
                : stage.approvers,
          })),
        );
        await writeAudit(tx, ctx.actor, { action: "matrix.created", targetType: "matrix", targetId: id, data: { name: input.name, requestType: input.requestType } });
        return { id };
      });
    }),

  list: tenantProcedure("admin")
    .output(z.array(matrixView))
    .query(async ({ ctx }) => {
      const [rows, stages] = await Promise.all([
        ctx.deps.db.select().from(matrices).where(eq(matrices.tenantId, ctx.tenantId)).orderBy(desc(matrices.priority), asc(matrices.createdAt)),
        ctx.deps.db.select().from(matrixStages).where(eq(matrixStages.tenantId, ctx.tenantId)).orderBy(asc(matrixStages.position)),
      ]);
      return rows.map((m) => ({
        ...m,
        createdAt: m.createdAt.toISOString(),
        stages: stages.filter((s) => s.matrixId === m.id).map(({ position, name, rule, quorum, approvers }) => ({ position, name, rule, quorum, approvers })),
      }));
    }),
});
