/**
 * Every job kind the platform runs, in one table: the server's worker (and `cli worker`) is built
 * from it. Add a kind here with its handler; periodic kinds also go in PERIODIC_JOBS.
 */
import type { JobHandler } from "@approvalmatrix/jobs";
import type { ApiDeps } from "../context";
import { runDueDeadlines } from "../services/deadlines/deadlines";
import { sendDueMessages } from "../services/notifications/send-messages";
import { eventsDispatchJob, eventsPurgeJob } from "./events-dispatch";

export const JOB_KINDS = {
  eventsDispatch: "events.dispatch",
  eventsPurge: "events.purge",
  /** Sends the e-mail outbox (claims rows itself: several instances share the work). */
  messagesSend: "messages.send",
  /** Reminders, escalations and automatic outcomes of stage deadlines. */
  deadlinesSweep: "deadlines.sweep",
} as const;

export function jobHandlers(deps: Pick<ApiDeps, "db" | "clock"> & Partial<Pick<ApiDeps, "apiKeyHashSecret" | "notifications">>): Record<string, JobHandler> {
  return {
    [JOB_KINDS.eventsDispatch]: eventsDispatchJob(),
    [JOB_KINDS.eventsPurge]: eventsPurgeJob,
    [JOB_KINDS.messagesSend]: async (_job, ctx) => {
      if (!deps.apiKeyHashSecret) return;
      await sendDueMessages({ db: ctx.db, apiKeyHashSecret: deps.apiKeyHashSecret, ...(deps.notifications ? { notifications: deps.notifications } : {}) }, ctx.now);
    },
    [JOB_KINDS.deadlinesSweep]: async (_job, ctx) => {
      await runDueDeadlines(ctx.db, ctx.now);
    },
  };
}

/** Periodic jobs and their intervals (ms): each runs once per interval across all instances. */
export const PERIODIC_JOBS: Record<string, number> = {
  [JOB_KINDS.eventsDispatch]: 1_000,
  [JOB_KINDS.eventsPurge]: 60 * 60_000,
  [JOB_KINDS.messagesSend]: 2_000,
  [JOB_KINDS.deadlinesSweep]: 30_000,
};
