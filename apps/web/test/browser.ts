// Finds the Chromium the browser tests drive, and launches it. Discovery is its own function so a
// unit test can run it against a fake PATH and home directory.
import { accessSync, constants, readdirSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, join } from "node:path";
import { type Browser, chromium } from "playwright-core";

/** The names a Chromium goes by on the PATH, in the order they are tried. */
export const CHROMIUM_NAMES = ["chromium", "chromium-browser", "google-chrome"] as const;

const HOW_TO_GET_ONE =
  "Set CHROMIUM_PATH, put chromium on the PATH (Debian: apt-get install chromium) or run `npx -y playwright-core install chromium`.";

export const HOW_TO_ENABLE_BROWSER_TESTS = `Browser tests skipped: no Chromium found. ${HOW_TO_GET_ONE}`;

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The Chromium to drive: `CHROMIUM_PATH`, then `chromium`, `chromium-browser`, `google-chrome` on
 * the PATH, then the newest of Playwright's downloads (`~/.cache/ms-playwright`, or
 * `PLAYWRIGHT_BROWSERS_PATH`). `null` when there is none. A `CHROMIUM_PATH` that is not an
 * executable is an error: whoever set it meant that browser.
 */
export function findChromium(env: Record<string, string | undefined> = process.env, home: string = homedir()): string | null {
  if (env.CHROMIUM_PATH) {
    if (!isExecutable(env.CHROMIUM_PATH)) throw new Error(`CHROMIUM_PATH=${env.CHROMIUM_PATH} is not an executable file.`);
    return env.CHROMIUM_PATH;
  }
  for (const name of CHROMIUM_NAMES) {
    for (const dir of (env.PATH ?? "").split(delimiter).filter(Boolean)) {
      if (isExecutable(join(dir, name))) return join(dir, name);
    }
  }
  const cache = env.PLAYWRIGHT_BROWSERS_PATH || join(home, ".cache", "ms-playwright");
  let revisions: string[];
  try {
    revisions = readdirSync(cache).filter((name) => /^chromium-\d+$/.test(name));
  } catch {
    return null;
  }
  // Newest revision first; Playwright's Linux folder is chrome-linux (older) or chrome-linux64.
  revisions.sort((a, b) => Number(b.slice(9)) - Number(a.slice(9)));
  for (const revision of revisions) {
    for (const folder of ["chrome-linux64", "chrome-linux"]) {
      const candidate = join(cache, revision, folder, "chrome");
      if (isExecutable(candidate)) return candidate;
    }
  }
  return null;
}

/**
 * The browser for this run, or `null` with one line saying how to enable the suite. Under
 * `CI=true` a missing browser fails loudly: CI must never pass by skipping the browser tests.
 */
export function chromiumForTests(env: Record<string, string | undefined> = process.env, home?: string): string | null {
  const found = findChromium(env, home);
  if (found) return found;
  if (env.CI === "true") throw new Error(`CI=true and no Chromium found for the browser tests. ${HOW_TO_GET_ONE}`);
  console.warn(HOW_TO_ENABLE_BROWSER_TESTS);
  return null;
}

export function launchChromium(executablePath: string): Promise<Browser> {
  return chromium.launch({
    executablePath,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}
