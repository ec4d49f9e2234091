import type { IncomingMessage, ServerResponse } from "node:http";
import { SECURITY_HEADERS } from "./security-headers";

/**
 * CSRF: every state-changing request must come from our own pages, by its Origin header (or its
 * Referer's origin when a browser sends no Origin). SameSite=Lax cookies are the second line.
 * Returns whether the request was refused (403 sent).
 */
export function refuseCrossSite(req: IncomingMessage, res: ServerResponse, origin: string): boolean {
  if (req.method === "GET" || req.method === "HEAD") return false;
  const sent = req.headers.origin ?? (req.headers.referer ? originOf(req.headers.referer) : null);
  if (sent === origin) return false;
  res.writeHead(403, { "Content-Type": "text/plain; charset=utf-8", ...SECURITY_HEADERS });
  res.end("Forbidden: this form was not sent from ApprovalMatrix (cross-site request refused).");
  return true;
}

function originOf(url: string): string | null {
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
}
