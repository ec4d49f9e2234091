/**
 * Every job kind the platform runs, in one table: the server's worker (and `cli worker`) is built
 * from it. Add a kind here with its handler; periodic kinds also go in PERIODIC_JOBS.
 */
import type { JobHandler } from "@approvalmatrix/jobs";
import type { ApiDeps } from "../context";
import { runDueDeadlines } from "../services/deadlines/deadlines";
import { composeDueDigests } from "../services/notifications/digests";
import { sendDueMessages } from "../services/notifications/send-messages";
import { checkpointGrownLogs } from "../services/receipts/log";
import { DELIVER_DUE_JOB, deliverDueJob, purgeOldDeliveries, webhookFanOut } from "../services/webhooks/deliveries";
import { requestExpireJob } from "../services/expire-request";
import { DELEGATION_EDGE_JOB, type DelegationEdge, runDelegationEdge } from "../services/delegations/delegations";
import { REQUEST_EXPIRE_JOB } from "../services/request-expiry";
import { EVENT_RETENTION_MS, eventsDispatchJob, eventsPurgeJob } from "./events-dispatch";

export const JOB_KINDS = {
  eventsDispatch: "events.dispatch",
  eventsPurge: "events.purge",
  /** Sends due webhook deliveries in batches (the deliveries are the queue: no job per delivery). */
  webhooksDeliverDue: DELIVER_DUE_JOB,
  webhooksPurge: "webhooks.purge",
  receiptsCheckpoint: "receipts.checkpoint",
  /** Sends the e-mail outbox (claims rows itself: several instances share the work). */
  messagesSend: "messages.send",
  /** Composes the daily digests owed (once per member and day; the sender sends them). */
  messagesDigest: "messages.digest",
  /** Reminders, escalations and automatic outcomes of stage deadlines. */
  deadlinesSweep: "deadlines.sweep",
  requestExpire: REQUEST_EXPIRE_JOB,
  /** A delegation starts or ends: open stages are re-pointed (planned when it is created). */
  delegationEdge: DELEGATION_EDGE_JOB,
} as const;

export function jobHandlers(
  deps: Pick<ApiDeps, "db" | "clock" | "apiKeyHashSecret" | "webhooks" | "receipts" | "notifications">,
): Record<string, JobHandler> {
  return {
    // The outbox fans out into one webhook delivery per event and matching endpoint; what a run
    // created goes out at once (a nudged sender run), not at the sender's next tick.
    [JOB_KINDS.eventsDispatch]: eventsDispatchJob(webhookFanOut(deps), (ctx) => ctx.nudge(JOB_KINDS.webhooksDeliverDue)),
    [JOB_KINDS.eventsPurge]: eventsPurgeJob,
    [JOB_KINDS.webhooksDeliverDue]: deliverDueJob(deps),
    [JOB_KINDS.webhooksPurge]: async (_job, { db, now }) => purgeOldDeliveries(db, now, EVENT_RETENTION_MS),
    // Logs that grew since their last checkpoint (decisions without a terminal outcome yet) get one.
    [JOB_KINDS.receiptsCheckpoint]: async (_job, { db, now }) => void (await checkpointGrownLogs(db, deps.receipts, now)),
    [JOB_KINDS.messagesSend]: async (_job, { db, now }) => {
      await sendDueMessages(
        { db, apiKeyHashSecret: deps.apiKeyHashSecret, ...(deps.notifications ? { notifications: deps.notifications } : {}) },
        now,
      );
    },
    [JOB_KINDS.messagesDigest]: async (_job, { db, now }) => {
      await composeDueDigests(db, now);
    },
    [JOB_KINDS.deadlinesSweep]: async (_job, { db, now }) => {
      await runDueDeadlines(db, now, deps.receipts);
    },
    [JOB_KINDS.requestExpire]: requestExpireJob(deps.receipts),
    [JOB_KINDS.delegationEdge]: async (job, { db, now }) => {
      const edge: DelegationEdge = job.payload.edge === "end" ? "end" : "start";
      if (job.tenantId) await runDelegationEdge(db, job.tenantId, String(job.payload.delegationId), edge, now);
    },
  };
}

/** Periodic jobs and their intervals (ms): each runs once per interval across all instances. */
export const PERIODIC_JOBS: Record<string, number> = {
  [JOB_KINDS.eventsDispatch]: 1_000,
  [JOB_KINDS.eventsPurge]: 60 * 60_000,
  // Retries (5 s and later) and the deliveries of other instances' dispatches, besides the nudges.
  [JOB_KINDS.webhooksDeliverDue]: 1_000,
  [JOB_KINDS.webhooksPurge]: 60 * 60_000,
  [JOB_KINDS.receiptsCheckpoint]: 10 * 60_000,
  [JOB_KINDS.messagesSend]: 2_000,
  // A digest goes out within this long of its hour (or of a restart after it).
  [JOB_KINDS.messagesDigest]: 5 * 60_000,
  [JOB_KINDS.deadlinesSweep]: 30_000,
};
