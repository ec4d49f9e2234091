// The admin app's HTTP layer as a browser meets it: static files and their caching, the CSRF
// refusal, the session cookie's sliding expiry, and headers on every kind of response.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WEB_BUILD_DIR } from "../src/web-handler";
import { SECURITY_HEADERS } from "../src/web/security-headers";
import { browserFetch, sessionCookie } from "./admin-fixtures";
import { type TestApp, startTestApp } from "./harness";
import { must } from "@approvalmatrix/core";

let app: TestApp;
let asset: string;
beforeAll(async () => {
  app = await startTestApp({}, { web: true });
  asset = must(readdirSync(join(WEB_BUILD_DIR, "client", "assets")).find((f) => f.endsWith(".js")));
});
afterAll(() => app.close());

const expectSecurityHeaders = (res: Response) => {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect(res.headers.get(name), name).toBe(value);
};

describe("static files of the build", () => {
  it("serves hashed assets as immutable for a year, with their type and the security headers", async () => {
    const res = await fetch(`${app.url}/assets/${asset}?v=1`);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(res.headers.get("content-type")).toMatch(/^text\/javascript/);
    expect(Number(res.headers.get("content-length"))).toBe((await res.arrayBuffer()).byteLength);
    expectSecurityHeaders(res);
  });

  it("caches unhashed files for an hour, answers HEAD without a body and revalidates by ETag", async () => {
    const res = await fetch(`${app.url}/favicon.svg`);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toMatch(/^public, ?max-age=3600$/);
    expect(res.headers.get("content-type")).toBe("image/svg+xml");
    const head = await fetch(`${app.url}/favicon.svg`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
    const again = await fetch(`${app.url}/favicon.svg`, { headers: { "If-None-Match": must(res.headers.get("etag")) } });
    expect(again.status).toBe(304);
  });

  it.each(["/..%2f..%2fpackage.json", "/assets/..%2f..%2fserver%2findex.js", "/../server/index.js"])(
    "never serves a file outside the client build (%s)",
    async (path) => {
      const res = await fetch(`${app.url}${path}`, { redirect: "manual" });
      expect(await res.text()).not.toContain("createRequestHandler");
      expect(res.headers.get("cache-control") ?? "").not.toContain("immutable");
    },
  );
});

describe("pages", () => {
  it("refuses a cross-site form post with 403 before anything runs", async () => {
    const res = await browserFetch(app, null)("/sign-in", {
      form: { email: "admin@acme.example", password: "x" },
      origin: "https://evil.example",
    });
    expect(res.status).toBe(403);
    expect(await res.text()).toContain("cross-site request refused");
    expectSecurityHeaders(res);
  });

  it("renders with the security headers and refreshes the session cookie when lucia extends it", async () => {
    const cookie = await sessionCookie(app, "admin@acme.example");
    const res = await browserFetch(app, cookie)("/keys");
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("API keys");
    expectSecurityHeaders(res);
    // A fresh session needs no refresh: no cookie is sent back.
    expect(res.headers.getSetCookie()).toEqual([]);
  });

  it("passes several Set-Cookie headers through separately (signing in)", async () => {
    const res = await browserFetch(app, null)("/sign-in", { form: { email: "nobody@acme.example", password: "wrong password" } });
    expect(res.status).toBeLessThan(500);
    for (const cookie of res.headers.getSetCookie()) expect(cookie).not.toMatch(/,\s*\w+=/);
  });
});
