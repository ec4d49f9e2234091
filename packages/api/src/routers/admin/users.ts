import { tenantProcedure } from "../../procedures";
import {
  changeUserRole,
  createPasswordReset,
  endUserSessions,
  listUserSessions,
  removeUser,
  setUserSuspended,
} from "../../services/users/user-admin";
import { inviteUser, listUsers } from "../../services/users/users";
import { router } from "../../trpc";
import {
  passwordResetCreated,
  userIdInput,
  userInviteInput,
  userInvited,
  userListItem,
  userRoleInput,
  userSessionView,
  userSessionsEndInput,
  userSuspendInput,
} from "./users.schemas";
import { z } from "zod";

export const usersRouter = router({
  list: tenantProcedure("admin")
    .output(userListItem.array())
    .query(({ ctx }) => listUsers(ctx.deps.db, ctx.tenantId)),

  /** Invites a person (services/users/users.ts): only owners may create owners and admins. */
  create: tenantProcedure("admin")
    .input(userInviteInput)
    .output(userInvited)
    .mutation(({ ctx, input }) => inviteUser(ctx.deps.db, ctx.actor, input)),

  setRole: tenantProcedure("admin")
    .input(userRoleInput)
    .output(userRoleInput)
    .mutation(({ ctx, input }) => changeUserRole(ctx.deps.db, ctx.actor, input.id, input.role)),

  /** A suspended user cannot sign in and loses their sessions at once. */
  setSuspended: tenantProcedure("admin")
    .input(userSuspendInput)
    .output(userSuspendInput)
    .mutation(({ ctx, input }) => setUserSuspended(ctx.deps.db, ctx.actor, input.id, input.suspended)),

  remove: tenantProcedure("admin")
    .input(userIdInput)
    .output(userIdInput)
    .mutation(({ ctx, input }) => removeUser(ctx.deps.db, ctx.actor, input.id)),

  /** A single-use reset link, shown to the admin (sent by e-mail once notifications exist). */
  resetPassword: tenantProcedure("admin")
    .input(userIdInput)
    .output(passwordResetCreated)
    .mutation(({ ctx, input }) => createPasswordReset(ctx.deps.db, ctx.actor, input.id)),

  sessions: tenantProcedure("admin")
    .input(userIdInput)
    .output(userSessionView.array())
    .query(({ ctx, input }) => listUserSessions(ctx.deps.db, ctx.tenantId, input.id)),

  endSessions: tenantProcedure("admin")
    .input(userSessionsEndInput)
    .output(z.object({ ended: z.number().int() }))
    .mutation(({ ctx, input }) => endUserSessions(ctx.deps.db, ctx.actor, input.id, input.sessionId)),
});
