import { randomBytes } from "node:crypto";

/**
 * Security headers, one place per kind of response. The admin app's scripts are Remix's inline
 * bootstrap and its module bundles: a fresh nonce per page admits the former, 'self' the latter.
 * React renders `style={{…}}` as style attributes, hence `style-src-attr 'unsafe-inline'`
 * (attributes only: no <style> element or stylesheet from elsewhere is admitted).
 */

/** Sent with every admin-app response (pages, static files, refusals): the one place to add headers. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "same-origin",
  "X-Frame-Options": "DENY",
  "Cross-Origin-Opener-Policy": "same-origin",
};

/** A nonce for one page's inline scripts (128 random bits). */
export function createCspNonce(): string {
  return randomBytes(16).toString("base64");
}

/** Pages and redirects of the admin app. */
export function adminPageHeaders(nonce: string): Record<string, string> {
  return {
    ...SECURITY_HEADERS,
    "Content-Security-Policy": [
      "default-src 'self'",
      `script-src 'self' 'nonce-${nonce}'`,
      "style-src 'self'",
      "style-src-attr 'unsafe-inline'",
      "img-src 'self' data:",
      "connect-src 'self'",
      "object-src 'none'",
      "base-uri 'none'",
      "form-action 'self'",
      "frame-ancestors 'none'",
    ].join("; "),
  };
}

/**
 * The API reference (/docs): Scalar's bundle from /docs/scalar.js, which injects its own <style>
 * elements (hence 'unsafe-inline' styles), loads the OpenAPI document and sends "try it" calls to
 * this origin. No inline script runs: the configuration is a data attribute.
 */
export const DOCS_HEADERS: Record<string, string> = {
  ...SECURITY_HEADERS,
  "Content-Security-Policy": [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "worker-src 'self' blob:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; "),
};

/** JSON of /v1, /trpc and the probes: nothing in it may ever render or be framed. */
export const API_HEADERS: Record<string, string> = {
  "X-Content-Type-Options": "nosniff",
  "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
  "Referrer-Policy": "no-referrer",
};
