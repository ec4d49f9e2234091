/**
 * A real HTTP receiver on loopback for the webhook tests: it records every request and answers as
 * the test tells it (a status, headers, a body, a delay, or never).
 */
import { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";

export interface ReceivedWebhook {
  headers: IncomingHttpHeaders;
  body: string;
  path: string;
  receivedAt: number;
}

export type Reply = { status: number; headers?: Record<string, string>; body?: string } | "hang";

export interface TestReceiver {
  url: string;
  port: number;
  received: ReceivedWebhook[];
  /** How to answer the next requests (default 200 "ok"); a function decides per request. */
  reply: Reply | ((received: ReceivedWebhook, index: number) => Reply);
  /** Ends every request left hanging (its socket is destroyed). */
  releaseHanging(): void;
  /** Resolves once `count` requests arrived (polls; no fixed sleep). */
  waitFor(count: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<TestReceiver> {
  const hanging = new Set<ServerResponse>();
  const receiver = {} as TestReceiver;
  receiver.received = [];
  receiver.reply = { status: 200, body: "ok" };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const entry: ReceivedWebhook = {
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
        path: req.url ?? "/",
        receivedAt: Date.now(),
      };
      const index = receiver.received.push(entry) - 1;
      const reply = typeof receiver.reply === "function" ? receiver.reply(entry, index) : receiver.reply;
      if (reply === "hang") {
        hanging.add(res);
        return;
      }
      res.writeHead(reply.status, reply.headers ?? {});
      res.end(reply.body ?? "");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  receiver.port = port;
  receiver.url = `http://127.0.0.1:${port}/hooks`;
  receiver.releaseHanging = () => {
    for (const res of hanging) res.socket?.destroy();
    hanging.clear();
  };
  receiver.waitFor = async (count, timeoutMs = 10_000) => {
    const until = Date.now() + timeoutMs;
    while (receiver.received.length < count) {
      if (Date.now() > until) throw new Error(`the receiver got ${receiver.received.length} of ${count} requests`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  receiver.close = () =>
    new Promise<void>((resolve) => {
      receiver.releaseHanging();
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return receiver;
}
