import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { WEB_BUILD_DIR } from "./web-handler";

const APP_ROOT = join(WEB_BUILD_DIR, "..");

/** The newest modification time under `path` (a file or a folder). */
function newestMtime(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return readdirSync(path).reduce((max, name) => Math.max(max, newestMtime(join(path, name))), 0);
}

function isFresh(): boolean {
  const entry = join(WEB_BUILD_DIR, "server", "index.js");
  if (!existsSync(entry)) return false;
  const sources = Math.max(...["app", "public", "vite.config.ts"].map((name) => newestMtime(join(APP_ROOT, name))));
  return statSync(entry).mtimeMs > sources;
}

/**
 * Builds the admin app unless build/ is newer than every source file, one build at a time (a lock
 * folder): a rebuild empties build/ first, so rebuilding identical sources under a running server
 * (parallel test files, `pnpm start` beside them) would make its assets vanish for a moment.
 * Returns whether it built.
 */
export function ensureWebBuild(options: { stdio?: "pipe" | "inherit" } = {}): boolean {
  const lock = join(APP_ROOT, ".web-build.lock");
  for (;;) {
    if (isFresh()) return false;
    try {
      mkdirSync(lock);
    } catch {
      execFileSync("sleep", ["1"]);
      continue;
    }
    try {
      if (isFresh()) return false;
      execFileSync(join(APP_ROOT, "node_modules", ".bin", "remix"), ["vite:build"], { cwd: APP_ROOT, stdio: options.stdio ?? "pipe" });
      return true;
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
}
