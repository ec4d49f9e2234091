/**
 * A webhook receiver for the benchmarks: HTTPS on loopback with a throwaway self-signed certificate
 * (production servers send webhooks over https only; the server under test is started with
 * NODE_TLS_REJECT_UNAUTHORIZED=0 and WEBHOOK_ALLOW_LOOPBACK=true to reach it). It answers 204 and
 * records when each message arrived and the event's createdAt, for the change→receiver delay.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Arrival {
  webhookId: string;
  type: string;
  createdAt: number;
  receivedAt: number;
}

export interface HttpsReceiver {
  url: string;
  arrivals: Arrival[];
  /** Distinct webhook-ids seen (a redelivery counts once). */
  distinct(): number;
  close(): Promise<void>;
}

export async function startHttpsReceiver(): Promise<HttpsReceiver> {
  const dir = mkdtempSync(join(tmpdir(), "apx-bench-tls-"));
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=127.0.0.1",
      "-keyout",
      join(dir, "key.pem"),
      "-out",
      join(dir, "cert.pem"),
    ],
    { stdio: "ignore" },
  );
  const arrivals: Arrival[] = [];
  const ids = new Set<string>();
  const server = createServer({ key: readFileSync(join(dir, "key.pem")), cert: readFileSync(join(dir, "cert.pem")) }, (req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      const receivedAt = Date.now();
      const webhookId = String(req.headers["webhook-id"]);
      try {
        const event = JSON.parse(body) as { type: string; createdAt: string };
        arrivals.push({ webhookId, type: event.type, createdAt: Date.parse(event.createdAt), receivedAt });
        ids.add(webhookId);
      } catch {
        // not an event
      }
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  rmSync(dir, { recursive: true, force: true });
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    arrivals,
    distinct: () => ids.size,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}
