import type { IncomingMessage } from "node:http";

/**
 * The client's address, for throttling. Behind `trustProxy` proxies (each appends the address it
 * received from to X-Forwarded-For), the client is the entry that many hops from the right of
 * X-Forwarded-For plus the socket's peer. Entries further left are whatever the client claims and
 * are never used; with no trusted proxy the header is ignored.
 */
export function clientAddress(req: IncomingMessage, trustProxy: number): string {
  const peer = req.socket.remoteAddress ?? "unknown";
  if (trustProxy <= 0) return peer;
  const header = req.headers["x-forwarded-for"];
  const forwarded = (Array.isArray(header) ? header.join(",") : (header ?? ""))
    .split(",")
    .map((a) => a.trim())
    .filter(Boolean);
  const chain = [...forwarded, peer];
  return chain[Math.max(0, chain.length - 1 - trustProxy)] ?? peer;
}
