/**
 * A webhook receiver for the benchmarks: HTTPS on loopback with a throwaway self-signed certificate
 * (production servers send webhooks over https only; the server under test is started with
 * NODE_TLS_REJECT_UNAUTHORIZED=0 and WEBHOOK_ALLOW_LOOPBACK=true to reach it). It answers 204 and
 * records when each message arrived and the event's createdAt, for the change→receiver delay.
 *
 * It runs as its own process, as a receiver is an external system: inside the bench process it
 * would take CPU from the load generator during the real server's runs only, and skew the ratio.
 * The child prints its URLs as one JSON line and answers GET /arrivals on a plain-HTTP loopback port.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export interface Arrival {
  webhookId: string;
  type: string;
  createdAt: number;
  receivedAt: number;
}

export interface HttpsReceiver {
  url: string;
  /** Every message received so far (a redelivery appears again). */
  arrivals(): Promise<Arrival[]>;
  /** Distinct webhook-ids seen (a redelivery counts once). */
  distinct(): Promise<number>;
  close(): Promise<void>;
}

const CHILD_FLAG = "APX_BENCH_RECEIVER_CHILD";

/** Starts the receiver process and waits for its URLs. */
export async function startHttpsReceiver(): Promise<HttpsReceiver> {
  const child = spawn(process.execPath, ["--import", "tsx", fileURLToPath(import.meta.url)], {
    cwd: fileURLToPath(new URL(".", import.meta.url)),
    env: { ...process.env, [CHILD_FLAG]: "1" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const { url, statsUrl } = await new Promise<{ url: string; statsUrl: string }>((resolve, reject) => {
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      const line = output.split("\n").find((l) => l.startsWith("{"));
      if (line && output.includes("\n")) resolve(JSON.parse(line) as { url: string; statsUrl: string });
    });
    child.once("exit", (code) => reject(new Error(`the webhook receiver exited (${code}) before it listened`)));
  });
  const stats = async () => (await (await fetch(`${statsUrl}/arrivals`)).json()) as { distinct: number; arrivals: Arrival[] };
  return {
    url,
    arrivals: async () => (await stats()).arrivals,
    distinct: async () => Number(await (await fetch(`${statsUrl}/distinct`)).text()),
    close: () => stopChild(child),
  };
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });
}

/** The receiver process itself. */
async function serve(): Promise<void> {
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
  const stats = createHttpServer((req, res) => {
    if (req.url === "/distinct") return res.writeHead(200, { "content-type": "text/plain" }).end(String(ids.size));
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ distinct: ids.size, arrivals }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  await new Promise<void>((resolve) => stats.listen(0, "127.0.0.1", resolve));
  rmSync(dir, { recursive: true, force: true });
  const port = (s: { address(): unknown }) => (s.address() as AddressInfo).port;
  process.stdout.write(
    `${JSON.stringify({ url: `https://127.0.0.1:${port(server)}/hooks`, statsUrl: `http://127.0.0.1:${port(stats)}` })}\n`,
  );
  process.once("SIGTERM", () => {
    server.closeAllConnections();
    stats.closeAllConnections();
    server.close();
    stats.close();
    process.exit(0);
  });
}

if (process.env[CHILD_FLAG] === "1") await serve();

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}
