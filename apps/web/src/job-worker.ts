import { type ApiDeps, PERIODIC_JOBS, jobHandlers } from "@approvalmatrix/api";
import { Worker } from "@approvalmatrix/jobs";
import type { ServerEnv } from "./env";

/**
 * The process's job worker: every job kind of the platform, the periodic ones planted (once across
 * instances). Services that queue work wake it through deps.wakeWorker.
 */
export function createJobWorker(deps: ApiDeps, env: Pick<ServerEnv, "WORKER_CONCURRENCY">): Worker {
  const worker = new Worker({ db: deps.db, handlers: jobHandlers(deps), clock: deps.clock, concurrency: env.WORKER_CONCURRENCY });
  for (const [kind, intervalMs] of Object.entries(PERIODIC_JOBS)) worker.every(kind, intervalMs);
  deps.wakeWorker = () => worker.wake();
  return worker;
}
