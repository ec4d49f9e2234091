import { DomainError, newId } from "@approvalmatrix/core";
import { and, asc, desc, eq, inArray, matrices, matrixStages, members } from "@approvalmatrix/db";
import { z } from "zod";
import { apiError } from "../../errors";
import { tenantProcedure } from "../../procedures";
import type { Actor } from "../../context";
import { writeAudit } from "../../services/audit";
import { planSubmission } from "../../services/submission";
import { router } from "../../trpc";
import type { Queryable } from "@approvalmatrix/db";

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
    currency: z
      .string()
      .regex(/^[A-Za-z]{3}$/)
      .nullish(),
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
    .mutation(({ ctx, input }) => ctx.deps.db.transaction((tx) => saveMatrix(tx, ctx.actor, input, null))),

  get: tenantProcedure("admin")
    .input(z.object({ id: z.string().min(1) }))
    .output(
      matrixView.extend({
        stages: z.array(matrixView.shape.stages.element.extend({ approverRefs: z.array(z.object({ ref: z.string(), name: z.string() })) })),
      }),
    )
    .query(async ({ ctx, input }) => {
      const [row] = await ctx.deps.db
        .select()
        .from(matrices)
        .where(and(eq(matrices.tenantId, ctx.tenantId), eq(matrices.id, input.id)));
      if (!row) throw apiError("not_found", `No matrix ${input.id}.`);
      const stages = await ctx.deps.db
        .select()
        .from(matrixStages)
        .where(and(eq(matrixStages.tenantId, ctx.tenantId), eq(matrixStages.matrixId, row.id)))
        .orderBy(asc(matrixStages.position));
      const ids = stages.flatMap((s) => (s.approvers.type === "members" ? s.approvers.memberIds : []));
      const named = ids.length
        ? await ctx.deps.db
            .select({ id: members.id, ref: members.externalRef, name: members.name })
            .from(members)
            .where(and(eq(members.tenantId, ctx.tenantId), inArray(members.id, ids)))
        : [];
      const byId = new Map(named.map((m) => [m.id, { ref: m.ref, name: m.name }]));
      return {
        ...row,
        createdAt: row.createdAt.toISOString(),
        stages: stages.map(({ position, name, rule, quorum, approvers }) => ({
          position,
          name,
          rule,
          quorum,
          approvers,
          approverRefs:
            approvers.type === "members"
              ? approvers.memberIds.map((id) => byId.get(id) ?? { ref: "(removed)", name: "(removed member)" })
              : [],
        })),
      };
    }),

  /** Replaces the matrix and its stages. Requests in flight keep the stages they were submitted with. */
  update: tenantProcedure("admin")
    .input(z.object({ id: z.string().min(1), matrix: matrixInput }))
    .output(z.object({ id: z.string() }))
    .mutation(({ ctx, input }) => ctx.deps.db.transaction((tx) => saveMatrix(tx, ctx.actor, input.matrix, input.id))),

  setActive: tenantProcedure("admin")
    .input(z.object({ id: z.string().min(1), active: z.boolean() }))
    .output(z.object({ id: z.string(), active: z.boolean() }))
    .mutation(async ({ ctx, input }) => {
      return ctx.deps.db.transaction(async (tx) => {
        const [row] = await tx
          .update(matrices)
          .set({ active: input.active, updatedAt: new Date() })
          .where(and(eq(matrices.tenantId, ctx.tenantId), eq(matrices.id, input.id)))
          .returning({ id: matrices.id, active: matrices.active, name: matrices.name });
        if (!row) throw apiError("not_found", `No matrix ${input.id}.`);
        await writeAudit(tx, ctx.actor, {
          action: input.active ? "matrix.activated" : "matrix.deactivated",
          targetType: "matrix",
          targetId: row.id,
          data: { name: row.name },
        });
        return { id: row.id, active: row.active };
      });
    }),

  /**
   * "This sample request would route here": the draft is written inside a transaction that is
   * always rolled back, and the sample is planned with planSubmission, the resolver dry-run uses.
   */
  preview: tenantProcedure("admin")
    .input(
      z.object({
        id: z.string().min(1).nullish().describe("The matrix being edited; absent for a new one."),
        matrix: matrixInput,
        sample: z.object({
          submitterRef: z.string().trim().min(1).max(200),
          amount: z.number().min(0).nullish(),
          currency: z
            .string()
            .regex(/^[A-Za-z]{3}$/)
            .nullish(),
          metadata: z.record(z.string(), z.unknown()).optional(),
        }),
      }),
    )
    .output(
      z.union([
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
      ]),
    )
    .mutation(async ({ ctx, input }) => {
      type Outcome =
        | {
            routed: true;
            matrixId: string;
            matrixName: string;
            isThisMatrix: boolean;
            stages: { position: number; name: string; rule: string; quorum: number | null; approvers: { ref: string; name: string }[] }[];
          }
        | { routed: false; code: string; message: string };
      let outcome: Outcome | null = null;
      try {
        await ctx.deps.db.transaction(async (tx) => {
          const { id } = await saveMatrix(tx, ctx.actor, { ...input.matrix, active: true }, input.id ?? null, { audit: false });
          try {
            const plan = await planSubmission(tx, ctx.tenantId, {
              ...input.sample,
              requestType: input.matrix.requestType,
              title: "Preview",
            });
            outcome = {
              routed: true,
              matrixId: plan.matrix.id,
              matrixName: plan.matrix.name,
              isThisMatrix: plan.matrix.id === id,
              stages: plan.stages.map((s) => ({
                position: s.position,
                name: s.name,
                rule: s.rule,
                quorum: s.quorum,
                approvers: s.eligible.map((m) => ({ ref: m.externalRef, name: m.name })),
              })),
            };
          } catch (error) {
            if (!(error instanceof DomainError)) throw error;
            outcome = { routed: false, code: error.code, message: error.message };
          }
          throw new PreviewRollback();
        });
      } catch (error) {
        if (!(error instanceof PreviewRollback)) throw error;
      }
      return outcome!;
    }),

  list: tenantProcedure("admin")
    .output(z.array(matrixView))
    .query(async ({ ctx }) => {
      const [rows, stages] = await Promise.all([
        ctx.deps.db
          .select()
          .from(matrices)
          .where(eq(matrices.tenantId, ctx.tenantId))
          .orderBy(desc(matrices.priority), asc(matrices.createdAt)),
        ctx.deps.db.select().from(matrixStages).where(eq(matrixStages.tenantId, ctx.tenantId)).orderBy(asc(matrixStages.position)),
      ]);
      return rows.map((m) => ({
        ...m,
        createdAt: m.createdAt.toISOString(),
        stages: stages
          .filter((s) => s.matrixId === m.id)
          .map(({ position, name, rule, quorum, approvers }) => ({ position, name, rule, quorum, approvers })),
      }));
    }),
});

class PreviewRollback extends Error {}

type MatrixInput = z.infer<typeof matrixInput>;

/** Writes a new matrix (id null) or replaces an existing one, stages included, with its audit row. */
async function saveMatrix(
  tx: Queryable,
  actor: Actor,
  input: MatrixInput,
  existingId: string | null,
  options: { audit: boolean } = { audit: true },
): Promise<{ id: string }> {
  const tenantId = actor.tenantId;
  const refs = [...new Set(input.stages.flatMap((s) => (s.approvers.type === "members" ? s.approvers.memberRefs : [])))];
  const found = refs.length
    ? await tx
        .select({ id: members.id, ref: members.externalRef })
        .from(members)
        .where(and(eq(members.tenantId, tenantId), inArray(members.externalRef, refs)))
    : [];
  const idByRef = new Map(found.map((m) => [m.ref, m.id]));
  const missing = refs.filter((r) => !idByRef.has(r));
  if (missing.length) {
    throw apiError("invalid_request", `Unknown approver externalRef(s): ${missing.join(", ")}.`, [
      { field: "stages.approvers.memberRefs", message: "unknown externalRef" },
    ]);
  }
  const values = {
    name: input.name,
    requestType: input.requestType,
    minAmount: input.minAmount ?? null,
    maxAmount: input.maxAmount ?? null,
    currency: input.currency?.toUpperCase() ?? null,
    conditions: input.conditions,
    priority: input.priority,
    active: input.active,
  };
  let id: string;
  if (existingId) {
    const [row] = await tx
      .update(matrices)
      .set({ ...values, updatedAt: new Date() })
      .where(and(eq(matrices.tenantId, tenantId), eq(matrices.id, existingId)))
      .returning({ id: matrices.id });
    if (!row) throw apiError("not_found", `No matrix ${existingId}.`);
    id = row.id;
    await tx.delete(matrixStages).where(and(eq(matrixStages.tenantId, tenantId), eq(matrixStages.matrixId, id)));
  } else {
    id = newId("matrix");
    await tx.insert(matrices).values({ id, tenantId, ...values });
  }
  await tx.insert(matrixStages).values(
    input.stages.map((stage, index) => ({
      matrixId: id,
      tenantId,
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
  if (options.audit) {
    await writeAudit(tx, actor, {
      action: existingId ? "matrix.updated" : "matrix.created",
      targetType: "matrix",
      targetId: id,
      data: { name: input.name, requestType: input.requestType, stages: input.stages.length },
    });
  }
  return { id };
}
