// Building the admin app beside running servers (pnpm start while tests run, two starts at once):
// identical sources must leave build/ untouched, so a running server never loses its assets.
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureWebBuild } from "../src/web-build";
import { WEB_BUILD_DIR } from "../src/web-handler";
import { type TestApp, startTestApp } from "./harness";
import { must } from "@approvalmatrix/core";

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({}, { web: true });
});
afterAll(() => app.close());

const fingerprint = (file: string) => {
  const stat = statSync(file);
  return `${stat.ino}:${stat.mtimeMs}:${stat.size}`;
};

describe("the admin app's build", () => {
  it("is not rewritten by builds of unchanged sources, even two at once, while a server runs from it", { timeout: 240_000 }, async () => {
    const asset = must(readdirSync(join(WEB_BUILD_DIR, "client", "assets")).find((f) => f.endsWith(".js")));
    const files = [join(WEB_BUILD_DIR, "server", "index.js"), join(WEB_BUILD_DIR, "client", "assets", asset)];
    const before = files.map(fingerprint);
    await Promise.all([ensureWebBuild({ quiet: true }), ensureWebBuild({ quiet: true })]);
    expect(files.map(fingerprint)).toEqual(before);
    const res = await fetch(`${app.url}/assets/${asset}`);
    expect(res.status).toBe(200);
  });
});
