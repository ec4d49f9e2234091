import { createReadStream, existsSync, statSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { extname, join, normalize, sep } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { fileURLToPath, pathToFileURL } from "node:url";
import { type ApiContext, type ApiDeps, createCaller } from "@approvalmatrix/api";
import { createAdminAuth } from "@approvalmatrix/auth";
import { newId } from "@approvalmatrix/core";
import { type AppLoadContext, type ServerBuild, createRequestHandler } from "@remix-run/node";
import type { WebContext } from "../app/load-context";
import { clientAddress } from "./client-address";
import { STATIC_FILE_HEADERS, adminPageHeaders, createCspNonce } from "./security-headers";
import type { RequestHandler } from "./server";
import type { ReadableStream as WebReadableStream } from "node:stream/web";

export const WEB_BUILD_DIR = fileURLToPath(new URL("../build/", import.meta.url));

const CONTENT_TYPES: Record<string, string> = {
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
  ".txt": "text/plain; charset=utf-8",
  ".woff2": "font/woff2",
};

export interface WebHandlerOptions {
  secureCookies: boolean;
  /** Proxies in front of the server whose X-Forwarded-For is believed (see client-address.ts). */
  trustProxy?: number;
  buildDir?: string;
}

/**
 * The admin app inside the API's process: static assets from the Vite build, then Remix with a
 * load context that carries the signed-in user and a tRPC caller acting as that user.
 */
export async function createWebHandler(deps: ApiDeps, options: WebHandlerOptions): Promise<RequestHandler> {
  const buildDir = options.buildDir ?? WEB_BUILD_DIR;
  const serverEntry = join(buildDir, "server", "index.js");
  if (!existsSync(serverEntry)) {
    throw new Error(
      `The admin app is not built (${serverEntry} is missing). Run \`pnpm --filter @approvalmatrix/web build\` (pnpm start does it for you).`,
    );
  }
  const build = (await import(pathToFileURL(serverEntry).href)) as ServerBuild;
  const clientDir = join(buildDir, "client");
  const handleRemix = createRequestHandler(build, "production");
  const auth = createAdminAuth(deps.db, deps.rateLimiter, { secureCookies: options.secureCookies });

  return async (req, res) => {
    const url = new URL(req.url ?? "/", `http://${req.headers.host ?? "localhost"}`);
    if ((req.method === "GET" || req.method === "HEAD") && (await sendStatic(clientDir, url.pathname, res))) return;

    const nonce = createCspNonce();
    const pageHeaders = adminPageHeaders(nonce);
    const origin = `${options.secureCookies ? "https" : "http"}://${req.headers.host ?? "localhost"}`;
    // CSRF: every state-changing request must come from our own pages (SameSite=Lax is the second line).
    if (req.method !== "GET" && req.method !== "HEAD" && !isSameOrigin(req, origin)) {
      res.writeHead(403, { "Content-Type": "text/plain; charset=utf-8", ...pageHeaders });
      return void res.end("Forbidden: this form was not sent from ApprovalMatrix (cross-site request refused).");
    }

    const requestId = newId("httpRequest");
    const validated = await auth.sessions.validate(req.headers.cookie ?? null);
    const apiContext = (onProgress?: ApiContext["onProgress"]): ApiContext | null =>
      validated
        ? {
            deps,
            requestId,
            authorization: null,
            credentialInQuery: false,
            response: { headers: {} },
            actor: {
              kind: "user",
              tenantId: validated.user.tenantId,
              userId: validated.user.id,
              role: validated.user.role,
              memberId: validated.user.memberId,
            },
            ...(onProgress ? { onProgress } : {}),
          }
        : null;
    const base = apiContext();
    const context: WebContext = {
      requestId,
      clientIp: clientAddress(req, options.trustProxy ?? 0),
      cspNonce: nonce,
      session: validated ? { sessionId: validated.sessionId, user: validated.user } : null,
      api: base ? createCaller(base) : null,
      apiWithProgress: (onProgress) => {
        const ctx = apiContext(onProgress);
        return ctx ? createCaller(ctx) : null;
      },
      auth,
      origin,
    };

    const response = await handleRemix(toFetchRequest(req, url), context as unknown as AppLoadContext);
    const headers: Record<string, string | string[]> = { ...pageHeaders };
    response.headers.forEach((value, key) => {
      if (key !== "set-cookie") headers[key] = value;
    });
    const cookies = response.headers.getSetCookie();
    // Sliding expiry: the session store extended the session, so the browser's cookie must follow.
    if (validated?.setCookie && !cookies.some((c) => c.startsWith(`${auth.sessions.cookieName}=`))) cookies.push(validated.setCookie);
    if (cookies.length) headers["set-cookie"] = cookies;
    res.writeHead(response.status, headers);
    if (!response.body || req.method === "HEAD") return void res.end();
    await pipeline(Readable.fromWeb(response.body as WebReadableStream), res);
  };
}

function isSameOrigin(req: IncomingMessage, origin: string): boolean {
  const sent = req.headers.origin ?? (req.headers.referer ? safeOrigin(req.headers.referer) : null);
  return sent === origin;
}

function safeOrigin(url: string): string | null {
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
}

function toFetchRequest(req: IncomingMessage, url: URL): Request {
  const headers = new Headers();
  for (const [key, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(key, v);
  }
  const controller = new AbortController();
  req.once("close", () => !req.complete && controller.abort());
  const hasBody = req.method !== "GET" && req.method !== "HEAD";
  return new Request(url, {
    method: req.method,
    headers,
    signal: controller.signal,
    ...(hasBody ? { body: Readable.toWeb(req) as ReadableStream, duplex: "half" } : {}),
  } as RequestInit);
}

/** Serves a file of the client build; hashed assets are cached for a year. */
async function sendStatic(clientDir: string, pathname: string, res: ServerResponse): Promise<boolean> {
  if (pathname === "/" || pathname.endsWith("/")) return false;
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return false;
  }
  const file = normalize(join(clientDir, decoded));
  if (!file.startsWith(clientDir + sep) && !file.startsWith(clientDir)) return false;
  if (!file.startsWith(normalize(clientDir))) return false;
  let size: number;
  try {
    const stat = statSync(file);
    if (!stat.isFile()) return false;
    size = stat.size;
  } catch {
    return false;
  }
  res.writeHead(200, {
    "Content-Type": CONTENT_TYPES[extname(file)] ?? "application/octet-stream",
    "Content-Length": String(size),
    "Cache-Control": pathname.startsWith("/assets/") ? "public, max-age=31536000, immutable" : "public, max-age=3600",
    ...STATIC_FILE_HEADERS,
  });
  await pipeline(createReadStream(file), res);
  return true;
}
