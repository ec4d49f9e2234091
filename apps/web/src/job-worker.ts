import { type ApiDeps, type ApiLogger, JOB_KINDS, PERIODIC_JOBS, jobHandlers } from "@approvalmatrix/api";
import { Worker } from "@approvalmatrix/jobs";
import type { ServerEnv } from "./env";

/**
 * The process's job worker: every job kind of the platform, the periodic ones planted (once across
 * instances). Procedures that make work due nudge it through deps.eventsWritten and deps.webhooksDue.
 */
export function createJobWorker(deps: ApiDeps, env: Pick<ServerEnv, "WORKER_CONCURRENCY">, logger?: ApiLogger): Worker {
  const worker = new Worker({
    db: deps.db,
    handlers: jobHandlers(deps),
    clock: deps.clock,
    concurrency: env.WORKER_CONCURRENCY,
    // A failed attempt is retried with backoff: a warning, as a structured line when there is a logger.
    ...(logger
      ? {
          onError: (job, error) =>
            logger.warn(
              { jobId: job.id, kind: job.kind, attempt: job.attempt, error: error instanceof Error ? error.message : String(error) },
              "job attempt failed",
            ),
        }
      : {}),
  });
  for (const [kind, intervalMs] of Object.entries(PERIODIC_JOBS)) worker.every(kind, intervalMs);
  // A commit that wrote events is dispatched at once rather than at the next 1 s tick (and the
  // dispatch nudges the webhook sender for what it created); a resend or replay nudges the sender.
  deps.eventsWritten = () => worker.nudge(JOB_KINDS.eventsDispatch);
  deps.webhooksDue = () => worker.nudge(JOB_KINDS.webhooksDeliverDue);
  return worker;
}
