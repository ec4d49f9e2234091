/**
 * Every job kind the platform runs, in one table: the server's worker (and `cli worker`) is built
 * from it. Add a kind here with its handler; periodic kinds also go in PERIODIC_JOBS.
 */
import type { JobHandler } from "@approvalmatrix/jobs";
import type { ApiDeps } from "../context";
import { requestExpireJob } from "../services/expire-request";
import { REQUEST_EXPIRE_JOB } from "../services/request-expiry";
import { eventsDispatchJob, eventsPurgeJob } from "./events-dispatch";

export const JOB_KINDS = {
  eventsDispatch: "events.dispatch",
  eventsPurge: "events.purge",
  requestExpire: REQUEST_EXPIRE_JOB,
} as const;

export function jobHandlers(_deps: Pick<ApiDeps, "db" | "clock">): Record<string, JobHandler> {
  return {
    [JOB_KINDS.eventsDispatch]: eventsDispatchJob(),
    [JOB_KINDS.eventsPurge]: eventsPurgeJob,
    [JOB_KINDS.requestExpire]: requestExpireJob,
  };
}

/** Periodic jobs and their intervals (ms): each runs once per interval across all instances. */
export const PERIODIC_JOBS: Record<string, number> = {
  [JOB_KINDS.eventsDispatch]: 1_000,
  [JOB_KINDS.eventsPurge]: 60 * 60_000,
};
