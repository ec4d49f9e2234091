import { type ReceiptActor, must } from "@approvalmatrix/core";
import { type Queryable, and, apiKeys, eq, users } from "@approvalmatrix/db";
import { type Actor, actorAudit } from "../../context";

// TODO(foundation): replace with describeActor (services/actor.ts) once merged.
export async function receiptActor(tx: Queryable, actor: Actor): Promise<ReceiptActor> {
  const { actorType: type, actorId: id } = actorAudit(actor);
  if (actor.kind === "apiKey") {
    const [key] = await tx
      .select({ name: apiKeys.name })
      .from(apiKeys)
      .where(and(eq(apiKeys.tenantId, actor.tenantId), eq(apiKeys.id, actor.keyId)));
    return { type, id, name: key?.name ?? `API key ${actor.keyStart}…` };
  }
  if (actor.kind === "user") {
    const [user] = await tx
      .select({ name: users.name, email: users.email })
      .from(users)
      .where(and(eq(users.tenantId, actor.tenantId), eq(users.id, actor.userId)));
    const found = must(user, "the signed-in user");
    return { type, id, name: found.name || found.email };
  }
  return { type, id, name: "operator (CLI)" };
}
