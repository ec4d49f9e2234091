#!/usr/bin/env node
// `pnpm start` runs this first: turbo builds the admin app (build/) and the compiled server (dist/)
// when their inputs changed, and restores nothing when they did not. Plain JavaScript: starting the
// product needs no TypeScript loader.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import lockfile from "proper-lockfile";

const APP_ROOT = fileURLToPath(new URL("..", import.meta.url));
const REPO_ROOT = fileURLToPath(new URL("../../..", import.meta.url));

/** pnpm itself, as the caller ran it: turbo needs a `pnpm` on the PATH, which `pnpm exec` provides. */
function pnpmCommand() {
  const execPath = process.env.npm_execpath;
  return execPath && /pnpm/.test(execPath) ? [process.execPath, [execPath]] : ["npx", ["-y", "pnpm@10"]];
}

/**
 * Runs `turbo run build --filter=@approvalmatrix/web` (cached by each task's inputs: identical
 * sources leave build/ and dist/ untouched, so servers running from them keep their files). Our own
 * lock stays because turbo takes none across processes: two cache misses at once (`pnpm start`
 * beside `pnpm test`) would run two builds into one directory.
 * @param {{ quiet?: boolean }} [options]
 */
export async function ensureBuild(options = {}) {
  const release = await lockfile.lock(APP_ROOT, {
    lockfilePath: `${APP_ROOT}.web-build.lock`,
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
    child.stdout?.on("data", (chunk) => (output += chunk.toString()));
    child.stderr?.on("data", (chunk) => (output += chunk.toString()));
    const code = await new Promise((resolve, reject) => child.once("error", reject).once("close", resolve));
    if (code !== 0) throw new Error(`Building the app failed (turbo run build exited with ${code}).\n${output}`);
  } finally {
    await release();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await ensureBuild();
