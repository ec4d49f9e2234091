import { type AuditActorType, must } from "@approvalmatrix/core";
import { type Queryable, apiKeys, and, eq, users } from "@approvalmatrix/db";
import { type Actor, actorAudit } from "../context";

/**
 * Who pressed the button, as a decision, its receipt and its events record it beside the approver
 * (whose decision it is): "Slack bot acting for Jane Smith". The subject stays the approver, as
 * in OAuth token exchange's `act` claim.
 */
export interface ActorView {
  type: AuditActorType;
  id: string;
  /** For people to read: a user's name, a key's name, "deadline of stage 2". */
  name: string;
}

/** The actor with a readable name, looked up in the caller's transaction. */
export async function describeActor(tx: Queryable, actor: Actor): Promise<ActorView> {
  const { actorType: type, actorId: id } = actorAudit(actor);
  switch (actor.kind) {
    case "apiKey": {
      const [key] = await tx
        .select({ name: apiKeys.name })
        .from(apiKeys)
        .where(and(eq(apiKeys.tenantId, actor.tenantId), eq(apiKeys.id, actor.keyId)));
      return { type, id, name: key?.name ?? `API key ${actor.keyStart}…` };
    }
    case "user": {
      const [user] = await tx
        .select({ name: users.name, email: users.email })
        .from(users)
        .where(and(eq(users.tenantId, actor.tenantId), eq(users.id, actor.userId)));
      const found = must(user, "the signed-in user");
      return { type, id, name: found.name || found.email };
    }
    case "system":
      return { type, id, name: actor.reason };
    case "emailLink":
      return { type, id, name: "one-click e-mail link" };
    case "serviceToken":
      // The token's own name; the approver it acts for is the decision's subject.
      return { type, id, name: actor.tokenName };
    case "operator":
      return { type, id, name: "operator (CLI)" };
    case "scim":
      return { type, id, name: `${actor.provider} (directory sync)` };
  }
}
