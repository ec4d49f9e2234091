import { DomainError } from "@approvalmatrix/core";
import { publicProcedure, tenantProcedure } from "../../procedures";
import { decideByLink, viewDecisionLink } from "../../services/notifications/decision-links";
import {
  listOutbox,
  readMemberEmailMode,
  readNotificationSettings,
  setMemberEmailMode,
  setTenantEmailEnabled,
} from "../../services/notifications/outbox";
import { router } from "../../trpc";
import {
  decideByLinkInput,
  decisionLinkInput,
  decisionLinkPage,
  emailMode,
  memberEmailMode,
  memberEmailModeInput,
  notificationSettings,
  outboxInput,
  outboxPage,
} from "./notifications.schemas";

/** The signed-in user's own member (their approvals are theirs): refused for accounts without one. */
function ownMemberId(actor: { kind: string; memberId?: string | null }): string {
  if (actor.kind === "user" && actor.memberId) return actor.memberId;
  throw new DomainError("conflict", "This account is not linked to a member, so it receives no approval e-mails.");
}

export const notificationsRouter = router({
  /** Every message of the tenant, rendered: the Outbox page. */
  outbox: tenantProcedure("admin")
    .input(outboxInput)
    .output(outboxPage)
    .query(({ ctx, input }) => listOutbox(ctx.deps.db, ctx.deps, ctx.tenantId, input)),
  settings: tenantProcedure("admin")
    .output(notificationSettings)
    .query(({ ctx }) => readNotificationSettings(ctx.deps.db, ctx.tenantId)),
  setTenantSwitch: tenantProcedure("admin")
    .input(notificationSettings)
    .output(notificationSettings)
    .mutation(({ ctx, input }) => setTenantEmailEnabled(ctx.deps.db, ctx.actor, input.emailEnabled)),
  setMemberMode: tenantProcedure("admin")
    .input(memberEmailModeInput)
    .output(memberEmailMode)
    .mutation(({ ctx, input }) => setMemberEmailMode(ctx.deps.db, ctx.actor, input.memberId, input.emailMode)),
  myMode: tenantProcedure("approver")
    .output(emailMode.nullable())
    .query(({ ctx }) =>
      ctx.actor.kind === "user" && ctx.actor.memberId ? readMemberEmailMode(ctx.deps.db, ctx.tenantId, ctx.actor.memberId) : null,
    ),
  setMyMode: tenantProcedure("approver")
    .input(memberEmailModeInput.pick({ emailMode: true }))
    .output(memberEmailMode)
    .mutation(({ ctx, input }) => setMemberEmailMode(ctx.deps.db, ctx.actor, ownMemberId(ctx.actor), input.emailMode)),
});

/** The one-click link's page: no sign-in; the token is the credential, and only `decide` writes. */
export const decisionLinksRouter = router({
  view: publicProcedure
    .input(decisionLinkInput)
    .output(decisionLinkPage)
    .query(({ ctx, input }) => viewDecisionLink(ctx.deps.db, input.token)),
  decide: publicProcedure
    .input(decideByLinkInput)
    .output(decisionLinkPage)
    .mutation(({ ctx, input }) => decideByLink(ctx.deps.db, ctx.deps.receipts, input)),
});
