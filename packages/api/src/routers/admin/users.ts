import { tenantProcedure } from "../../procedures";
import { inviteUser, listUsers } from "../../services/users/users";
import { router } from "../../trpc";
import { userInviteInput, userInvited, userView } from "./users.schemas";

export const usersRouter = router({
  list: tenantProcedure("admin")
    .output(userView.array())
    .query(({ ctx }) => listUsers(ctx.deps.db, ctx.tenantId)),

  /** Invites a person (services/users/users.ts): only owners may create owners and admins. */
  create: tenantProcedure("admin")
    .input(userInviteInput)
    .output(userInvited)
    .mutation(({ ctx, input }) => inviteUser(ctx.deps.db, ctx.actor, input)),
});
