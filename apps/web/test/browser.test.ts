import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { HOW_TO_ENABLE_BROWSER_TESTS, chromiumForTests, findChromium } from "./browser";

const dirs: string[] = [];
afterEach(() => {
  dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true }));
  vi.restoreAllMocks();
});

/** A scratch folder holding executables (or plain files) at the given relative paths. */
function scratch(files: Record<string, "exe" | "file"> = {}): string {
  const root = mkdtempSync(join(tmpdir(), "apx-browser-"));
  dirs.push(root);
  for (const [path, kind] of Object.entries(files)) {
    mkdirSync(join(root, path, ".."), { recursive: true });
    writeFileSync(join(root, path), "#!/bin/sh\n");
    chmodSync(join(root, path), kind === "exe" ? 0o755 : 0o644);
  }
  return root;
}

describe("finding a Chromium for the browser tests", () => {
  it("takes CHROMIUM_PATH first, before anything on the PATH", () => {
    const root = scratch({ "opt/my-chrome": "exe", "bin/chromium": "exe" });
    expect(findChromium({ CHROMIUM_PATH: join(root, "opt/my-chrome"), PATH: join(root, "bin") }, root)).toBe(join(root, "opt/my-chrome"));
  });

  it("refuses a CHROMIUM_PATH that is not an executable", () => {
    const root = scratch({ "opt/not-a-browser": "file" });
    expect(() => findChromium({ CHROMIUM_PATH: join(root, "opt/not-a-browser"), PATH: "" }, root)).toThrow(
      /CHROMIUM_PATH=.*not an executable/,
    );
  });

  it("tries chromium, chromium-browser, google-chrome on the PATH in that order, skipping non-executables", () => {
    const root = scratch({ "a/chromium": "file", "b/google-chrome": "exe", "c/chromium-browser": "exe" });
    const PATH = ["a", "b", "c"].map((d) => join(root, d)).join(delimiter);
    expect(findChromium({ PATH }, root)).toBe(join(root, "c/chromium-browser"));
    expect(findChromium({ PATH: [join(root, "a"), join(root, "b")].join(delimiter) }, root)).toBe(join(root, "b/google-chrome"));
  });

  it("falls back to the newest Chromium in Playwright's cache", () => {
    const home = scratch({
      ".cache/ms-playwright/chromium-1090/chrome-linux/chrome": "exe",
      ".cache/ms-playwright/chromium-1200/chrome-linux64/chrome": "exe",
      ".cache/ms-playwright/chromium_headless_shell-1300/chrome-linux/headless_shell": "exe",
    });
    expect(findChromium({ PATH: scratch() }, home)).toBe(join(home, ".cache/ms-playwright/chromium-1200/chrome-linux64/chrome"));
  });

  it("finds nothing on a machine without a browser", () => {
    const home = scratch();
    expect(findChromium({ PATH: scratch({ node: "exe" }) }, home)).toBeNull();
  });

  it("skips with one line saying how to enable the suite, but fails under CI=true", () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const home = scratch();
    expect(chromiumForTests({ PATH: "" }, home)).toBeNull();
    expect(warn).toHaveBeenCalledExactlyOnceWith(HOW_TO_ENABLE_BROWSER_TESTS);
    expect(HOW_TO_ENABLE_BROWSER_TESTS).toContain("CHROMIUM_PATH");
    expect(() => chromiumForTests({ PATH: "", CI: "true" }, home)).toThrow(/CI=true and no Chromium found/);
  });
});
