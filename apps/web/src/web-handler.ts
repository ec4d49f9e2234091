import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { ApiDeps } from "@approvalmatrix/api";
import { createAdminAuth } from "@approvalmatrix/auth";
import { type AppLoadContext, type ServerBuild, createRequestHandler } from "@remix-run/node";
import { createRequest, sendResponse } from "@remix-run/node-fetch-server";
import type { RequestHandler } from "./server";
import { adminSessionContext } from "./web/admin-session-context";
import { refuseCrossSite } from "./web/csrf";
import { adminPageHeaders, createCspNonce } from "./web/security-headers";
import { createStaticFiles } from "./web/static-files";

export const WEB_BUILD_DIR = fileURLToPath(new URL("../build/", import.meta.url));

export interface WebHandlerOptions {
  secureCookies: boolean;
  /** Proxies in front of the server whose X-Forwarded-For is believed (see web/client-address.ts). */
  trustProxy?: number;
  buildDir?: string;
}

/**
 * The admin app inside the API's process, in four steps: static files of the Vite build, the
 * CSRF check, the signed-in user's load context, then Remix (Node↔Fetch by node-fetch-server).
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
  const staticFiles = createStaticFiles(join(buildDir, "client"));
  const handleRemix = createRequestHandler(build, "production");
  const auth = createAdminAuth(deps.db, deps.rateLimiter, { secureCookies: options.secureCookies });
  const protocol = options.secureCookies ? "https:" : "http:";

  return async (req, res) => {
    if (staticFiles(req, res)) return;
    const origin = `${protocol}//${req.headers.host ?? "localhost"}`;
    if (refuseCrossSite(req, res, origin)) return;
    // A fresh nonce per page admits Remix's inline bootstrap under the CSP.
    const nonce = createCspNonce();
    const { context, validated } = await adminSessionContext(req, deps, auth, {
      origin,
      cspNonce: nonce,
      trustProxy: options.trustProxy ?? 0,
    });
    const response = await handleRemix(createRequest(req, res, { protocol }), context as unknown as AppLoadContext);

    const headers = new Headers(response.headers);
    for (const [name, value] of Object.entries(adminPageHeaders(nonce))) if (!headers.has(name)) headers.set(name, value);
    // Sliding expiry: the session store extended the session, so the browser's cookie must follow.
    const cookiePrefix = `${auth.sessions.cookieName}=`;
    if (validated?.setCookie && !headers.getSetCookie().some((c) => c.startsWith(cookiePrefix)))
      headers.append("Set-Cookie", validated.setCookie);
    await sendResponse(res, new Response(response.body, { status: response.status, statusText: response.statusText, headers }));
  };
}
