import { generateOneTimePassword, hashPassword, normalizeEmail, passwordProblem } from "@approvalmatrix/auth";
import { newId } from "@approvalmatrix/core";
import { and, asc, eq, members, users } from "@approvalmatrix/db";
import { z } from "zod";
import { apiError } from "../../errors";
import { tenantProcedure } from "../../procedures";
import { writeAudit } from "../../services/audit";
import { router } from "../../trpc";

const userView = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string(),
  role: z.enum(["owner", "admin", "approver"]),
  memberRef: z.string().nullable(),
  createdAt: z.iso.datetime(),
});

export const usersRouter = router({
  list: tenantProcedure("admin")
    .output(z.array(userView))
    .query(async ({ ctx }) => {
      const rows = await ctx.deps.db
        .select({
          id: users.id,
          email: users.email,
          name: users.name,
          role: users.role,
          memberRef: members.externalRef,
          createdAt: users.createdAt,
        })
        .from(users)
        .leftJoin(members, and(eq(members.userId, users.id), eq(members.tenantId, users.tenantId)))
        .where(eq(users.tenantId, ctx.tenantId))
        .orderBy(asc(users.createdAt));
      return rows.map((r) => ({ ...r, createdAt: r.createdAt.toISOString() }));
    }),

  /**
   * Invites a person: creates the user with a one-time password (shown once to the inviter) or
   * the password given, and links it to a member so an approver can decide as that member.
   * Only owners may create owners and admins.
   */
  create: tenantProcedure("admin")
    .input(
      z.strictObject({
        email: z.email().max(320),
        name: z.string().trim().min(1).max(200),
        role: z.enum(["owner", "admin", "approver"]),
        memberRef: z.string().trim().min(1).max(200).nullish(),
        password: z.string().min(1).max(200).optional(),
      }),
    )
    .output(userView.extend({ initialPassword: z.string().nullable() }))
    .mutation(async ({ ctx, input }) => {
      const actorRole = ctx.actor.kind === "user" ? ctx.actor.role : "owner";
      if (input.role !== "approver" && actorRole !== "owner") throw apiError("forbidden", "Only an owner can add owners and admins.");
      if (input.password) {
        const problem = passwordProblem(input.password);
        if (problem) throw apiError("invalid_request", problem, [{ field: "password", message: problem }]);
      }
      // A one-time password must be replaced at the first sign-in (users.must_change_password).
      const initialPassword = input.password ? null : generateOneTimePassword();
      const passwordHash = await hashPassword(input.password ?? initialPassword!);
      const email = normalizeEmail(input.email);
      return ctx.deps.db.transaction(async (tx) => {
        let memberId: string | null = null;
        if (input.memberRef) {
          const [member] = await tx
            .select({ id: members.id, userId: members.userId })
            .from(members)
            .where(and(eq(members.tenantId, ctx.tenantId), eq(members.externalRef, input.memberRef)));
          if (!member)
            throw apiError("invalid_request", `No member has externalRef "${input.memberRef}".`, [
              { field: "memberRef", message: "unknown externalRef" },
            ]);
          if (member.userId)
            throw apiError("conflict", `Member ${input.memberRef} is already linked to a user.`, [
              { field: "memberRef", message: "already linked" },
            ]);
          memberId = member.id;
        }
        const [row] = await tx
          .insert(users)
          .values({
            id: newId("user"),
            tenantId: ctx.tenantId,
            email,
            name: input.name,
            role: input.role,
            passwordHash,
            mustChangePassword: initialPassword !== null,
          })
          // Unique per tenant (tenant_id, email): another tenant's user with this email is no conflict.
          .onConflictDoNothing({ target: [users.tenantId, users.email] })
          .returning();
        if (!row)
          throw apiError("conflict", `This tenant already has a user with email ${email}.`, [
            { field: "email", message: "already in use" },
          ]);
        if (memberId)
          await tx
            .update(members)
            .set({ userId: row.id })
            .where(and(eq(members.tenantId, ctx.tenantId), eq(members.id, memberId)));
        await writeAudit(tx, ctx.actor, {
          action: "user.invited",
          targetType: "user",
          targetId: row.id,
          data: { email, role: input.role, memberRef: input.memberRef ?? null },
        });
        return {
          id: row.id,
          email,
          name: row.name,
          role: row.role,
          memberRef: input.memberRef ?? null,
          createdAt: row.createdAt.toISOString(),
          initialPassword,
        };
      });
    }),
});
