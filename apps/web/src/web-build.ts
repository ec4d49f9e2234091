import { spawn } from "node:child_process";
import { join } from "node:path";
import lockfile from "proper-lockfile";
import { WEB_BUILD_DIR } from "./web-handler";

const APP_ROOT = join(WEB_BUILD_DIR, "..");
const REPO_ROOT = join(APP_ROOT, "..", "..");

/** pnpm itself, as the caller ran it: turbo needs a `pnpm` on the PATH, which `pnpm exec` provides. */
function pnpmCommand(): [string, string[]] {
  const execPath = process.env.npm_execpath;
  return execPath && /pnpm/.test(execPath) ? [process.execPath, [execPath]] : ["npx", ["-y", "pnpm@10"]];
}

/**
 * Builds the admin app through turbo (`turbo run build`, cached by the task's inputs: identical
 * sources restore nothing and leave build/ untouched, so servers running from it keep their assets).
 * Our own lock stays because turbo takes none across processes: two cache misses at once
 * (`pnpm start` beside `pnpm test`) would run two Vite builds into one build/.
 */
export async function ensureWebBuild(options: { quiet?: boolean } = {}): Promise<void> {
  const release = await lockfile.lock(APP_ROOT, {
    lockfilePath: join(APP_ROOT, ".web-build.lock"),
    realpath: false,
    stale: 30_000,
    retries: { retries: 300, minTimeout: 1000, maxTimeout: 1000 },
  });
  try {
    const [command, prefix] = pnpmCommand();
    const args = [
      ...prefix,
      "exec",
      "turbo",
      "run",
      "build",
      "--filter=@approvalmatrix/web",
      `--output-logs=${options.quiet ? "errors-only" : "new-only"}`,
    ];
    // One output for every caller (tests run with NODE_ENV=test): the cache key does not include it.
    const child = spawn(command, args, {
      cwd: REPO_ROOT,
      stdio: options.quiet ? "pipe" : "inherit",
      env: { ...process.env, NODE_ENV: "production" },
    });
    let output = "";
    child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve, reject) => child.once("error", reject).once("close", resolve));
    if (code !== 0) throw new Error(`Building the admin app failed (turbo run build exited with ${code}).\n${output}`);
  } finally {
    await release();
  }
}
