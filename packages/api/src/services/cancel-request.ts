import { cancel, must } from "@approvalmatrix/core";
import type { Database } from "@approvalmatrix/db";
import type { Actor } from "../context";
import type { RequestView } from "../contracts/requests";
import { loadRequestView } from "./request-view";
import { lockRequest, saveTransition } from "./request-transition";
import { describeActor } from "./actor";
import type { ReceiptSigner } from "./receipts/keys";

/**
 * Cancels a pending or in-progress request under its row lock, so a decision racing it either
 * lands before (and the cancel sees it) or is refused after (request_closed). Refusals: not_found,
 * request_closed. Returns the request as GET /v1/requests/{id} shows it afterwards.
 */
export async function cancelRequest(
  db: Database,
  actor: Actor,
  input: { requestId: string; reason: string },
  signer: ReceiptSigner,
): Promise<RequestView> {
  const tenantId = actor.tenantId;
  const reason = input.reason.trim();
  return db.transaction(async (tx) => {
    const locked = await lockRequest(tx, tenantId, input.requestId);
    const transition = cancel(locked.state);
    const view = await saveTransition(tx, actor, locked, transition, {
      now: new Date(),
      cancelReason: reason,
      receipts: { signer, actor: await describeActor(tx, actor), reason },
      eventData: (event) => (event.type === "status_changed" ? { reason } : {}),
      readAfter: () => loadRequestView(tx, tenantId, input.requestId),
    });
    return must(view, "the cancelled request");
  });
}
