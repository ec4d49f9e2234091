import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** What the metrics read at scrape time (each may be absent: PGlite has no pool, a worker may be off). */
export interface MetricSources {
  pool?: () => { max: number; inUse: number; waiting: number } | null;
  jobs?: () => Promise<{ depth: number; oldestAgeMs: number | null; failed: number }>;
  /** Pending webhook deliveries: their own queue (the rows), not jobs. */
  webhookDeliveries?: () => Promise<{ pending: number; due: number; oldestDueAgeMs: number | null }>;
  inFlight: () => number;
}

type Label = "method" | "route" | "status";

export interface HttpSample {
  method: string;
  route: string;
  status: number;
  seconds: number;
  rateLimited?: "key" | "unauthenticated" | undefined;
}

/**
 * The Prometheus registry of one process (prom-client): HTTP requests and latency by route
 * template and status, rate-limit refusals, the database pool, the job queue, the webhook delivery
 * queue, and Node's own
 * (event loop lag, heap, GC, CPU) under the `approvalmatrix_` prefix.
 */
export class AppMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<Label>;
  private readonly duration: Histogram<Label>;
  private readonly refusals: Counter<"limit">;
  /** Children by label values: prom-client hashes a label object on every call otherwise. */
  private readonly children = new Map<string, { count: Counter.Internal; time: Histogram.Internal<Label> }>();

  constructor(sources: MetricSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: "approvalmatrix_" });
    this.requests = new Counter({
      name: "approvalmatrix_http_requests_total",
      help: "HTTP requests answered, by method, route template and status.",
      labelNames: ["method", "route", "status"],
      registers,
    });
    this.duration = new Histogram({
      name: "approvalmatrix_http_request_duration_seconds",
      help: "Time from a request's arrival to the end of its response, by method, route template and status.",
      labelNames: ["method", "route", "status"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.refusals = new Counter({
      name: "approvalmatrix_rate_limit_refusals_total",
      help: "Calls refused with 429: limit=key (the API key's per-minute limit) or unauthenticated (failed authentications per address).",
      labelNames: ["limit"],
      registers,
    });
    new Gauge({
      name: "approvalmatrix_http_requests_in_flight",
      help: "HTTP requests being handled now.",
      registers,
      collect() {
        this.set(sources.inFlight());
      },
    });
    if (sources.pool) {
      const pool = sources.pool;
      new Gauge({
        name: "approvalmatrix_db_pool_connections",
        help: "PostgreSQL pool: state=max (the pool's size), in_use (running a query or transaction), waiting (queries queued for a connection).",
        labelNames: ["state"],
        registers,
        collect() {
          const stats = pool();
          if (!stats) return;
          this.set({ state: "max" }, stats.max);
          this.set({ state: "in_use" }, stats.inUse);
          this.set({ state: "waiting" }, stats.waiting);
        },
      });
    }
    if (sources.jobs) {
      // One query per scrape for the three gauges.
      const read = oncePerScrape(sources.jobs);
      new Gauge({
        name: "approvalmatrix_jobs_queue_depth",
        help: "Jobs due or waiting to run.",
        registers,
        async collect() {
          this.set((await read()).depth);
        },
      });
      new Gauge({
        name: "approvalmatrix_jobs_oldest_age_seconds",
        help: "Age of the oldest job waiting to run (0 when none).",
        registers,
        async collect() {
          this.set(((await read()).oldestAgeMs ?? 0) / 1000);
        },
      });
      new Gauge({
        name: "approvalmatrix_jobs_failed",
        help: "Jobs that used up their attempts and are kept as failed.",
        registers,
        async collect() {
          this.set((await read()).failed);
        },
      });
    }
    if (sources.webhookDeliveries) {
      const read = oncePerScrape(sources.webhookDeliveries);
      new Gauge({
        name: "approvalmatrix_webhook_deliveries_pending",
        help: "Webhook deliveries not settled yet: due, being sent, or waiting for a retry.",
        registers,
        async collect() {
          this.set((await read()).pending);
        },
      });
      new Gauge({
        name: "approvalmatrix_webhook_deliveries_due",
        help: "Webhook deliveries due now and not yet claimed by a sender.",
        registers,
        async collect() {
          this.set((await read()).due);
        },
      });
      new Gauge({
        name: "approvalmatrix_webhook_deliveries_oldest_due_seconds",
        help: "How late the oldest due webhook delivery is (0 when none is due).",
        registers,
        async collect() {
          this.set(((await read()).oldestDueAgeMs ?? 0) / 1000);
        },
      });
    }
  }

  recordHttp(sample: HttpSample): void {
    const status = String(sample.status);
    const key = `${sample.method} ${sample.route} ${status}`;
    let child = this.children.get(key);
    if (!child) {
      const labels = { method: sample.method, route: sample.route, status };
      child = { count: this.requests.labels(labels), time: this.duration.labels(labels) };
      this.children.set(key, child);
    }
    child.count.inc();
    child.time.observe(sample.seconds);
    if (sample.rateLimited) this.refusals.inc({ limit: sample.rateLimited });
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

/** `read`, called at most once a second: the gauges of one scrape share one query. */
function oncePerScrape<T>(read: () => T): () => T {
  let cached: { at: number; value: T } | null = null;
  return () => {
    const now = Date.now();
    if (!cached || now - cached.at > 1000) cached = { at: now, value: read() };
    return cached.value;
  };
}
