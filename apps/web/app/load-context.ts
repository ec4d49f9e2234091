import type { createCaller } from "@approvalmatrix/api";
import type { AdminAuth, SignedInUser } from "@approvalmatrix/auth";

/** The tRPC routers, called in-process as the signed-in user. */
export type ApiCaller = ReturnType<typeof createCaller>;

/**
 * What the Node server hands every loader and action (src/web-handler.ts builds it). Types only
 * cross into the Remix bundle: the database, the routers and lucia stay in the server process.
 */
export interface WebContext {
  requestId: string;
  /** The client's address (through TRUST_PROXY proxies), for sign-in throttling. */
  clientIp: string;
  /** This page's Content-Security-Policy nonce (entry.server puts it on Remix's inline scripts). */
  cspNonce: string;
  session: { sessionId: string; user: SignedInUser } | null;
  /** Null when nobody is signed in. */
  api: ApiCaller | null;
  /** A caller with no actor: only public procedures answer it (the one-click decision page). */
  publicApi: ApiCaller;
  /** The same caller, reporting progress of long operations (CSV import). */
  apiWithProgress(onProgress: (p: { phase: string; done: number; total: number }) => void): ApiCaller | null;
  auth: AdminAuth;
  /** Single-use password reset links an admin made (the link's page needs no session). */
  passwordResets: {
    find(token: string): Promise<{ email: string; name: string } | null>;
    use(token: string, password: string): Promise<{ ok: true } | { ok: false; message: string }>;
  };
  /** API base URL shown in the UI (e.g. the curl example on the keys page). */
  origin: string;
}

declare module "@remix-run/server-runtime" {
  // Module augmentation: Remix's AppLoadContext gains our fields.
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  interface AppLoadContext extends WebContext {}
  // Single fetch types: loaders/actions return plain data (or data() with a status).
  interface Future {
    v3_singleFetch: true;
  }
}
