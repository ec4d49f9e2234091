/**
 * Every job kind the platform runs, in one table: the server's worker (and `cli worker`) is built
 * from it. Add a kind here with its handler; periodic kinds also go in PERIODIC_JOBS.
 */
import type { JobHandler } from "@approvalmatrix/jobs";
import type { ApiDeps } from "../context";
import { checkpointGrownLogs } from "../services/receipts/log";
import { DELIVER_JOB, deliverWebhook, purgeOldDeliveries, webhookFanOut } from "../services/webhooks/deliveries";
import { EVENT_RETENTION_MS, eventsDispatchJob, eventsPurgeJob } from "./events-dispatch";

export const JOB_KINDS = {
  eventsDispatch: "events.dispatch",
  eventsPurge: "events.purge",
  webhooksDeliver: DELIVER_JOB,
  webhooksPurge: "webhooks.purge",
  receiptsCheckpoint: "receipts.checkpoint",
} as const;

export function jobHandlers(
  deps: Pick<ApiDeps, "db" | "clock" | "apiKeyHashSecret" | "webhooks" | "receipts">,
): Record<string, JobHandler> {
  return {
    // The outbox fans out into one webhook delivery per event and matching endpoint.
    [JOB_KINDS.eventsDispatch]: eventsDispatchJob(webhookFanOut(deps)),
    [JOB_KINDS.eventsPurge]: eventsPurgeJob,
    [JOB_KINDS.webhooksDeliver]: (job, { now }) => deliverWebhook(deps, String(job.payload.deliveryId), now),
    [JOB_KINDS.webhooksPurge]: async (_job, { db, now }) => purgeOldDeliveries(db, now, EVENT_RETENTION_MS),
    // Logs that grew since their last checkpoint (decisions without a terminal outcome yet) get one.
    [JOB_KINDS.receiptsCheckpoint]: async (_job, { db, now }) => void (await checkpointGrownLogs(db, deps.receipts, now)),
  };
}

/** Periodic jobs and their intervals (ms): each runs once per interval across all instances. */
export const PERIODIC_JOBS: Record<string, number> = {
  [JOB_KINDS.eventsDispatch]: 1_000,
  [JOB_KINDS.eventsPurge]: 60 * 60_000,
  [JOB_KINDS.webhooksPurge]: 60 * 60_000,
  [JOB_KINDS.receiptsCheckpoint]: 10 * 60_000,
};
