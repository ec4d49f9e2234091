import type { IncomingMessage, ServerResponse } from "node:http";
import sirv from "sirv";
import { SECURITY_HEADERS } from "./security-headers";

/** Vite's hashed output: a changed file gets a new name, so browsers may keep these forever. */
const HASHED_PREFIX = "/assets/";

/**
 * The client build's files (scanned once, at start-up). Returns whether it answered: false lets
 * the request through to Remix.
 */
export function createStaticFiles(clientDir: string): (req: IncomingMessage, res: ServerResponse) => boolean {
  const serve = sirv(clientDir, {
    dev: false,
    etag: true,
    extensions: [],
    maxAge: 3600,
    setHeaders(res, pathname) {
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
      if (pathname.startsWith(HASHED_PREFIX)) res.setHeader("Cache-Control", "public, max-age=31536000, immutable");
    },
  });
  return (req, res) => {
    if (req.method !== "GET" && req.method !== "HEAD") return false;
    // sirv decides synchronously: it calls `next` when no file matches, else starts the response.
    let missed = false;
    serve(req, res, () => {
      missed = true;
    });
    return !missed;
  };
}
