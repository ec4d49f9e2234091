import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const RESULTS = join(dirname(fileURLToPath(import.meta.url)), "results");

/**
 * Where a benchmark writes its table. By default an untracked file (results/local/, gitignored), so
 * a run on a laptop leaves the tree clean; `BENCH_SAVE=1` updates the tracked results/<name>-latest.md.
 */
export function resultsFile(
  name: "load" | "members" | "webhooks" | "scale" | "soak" | "receipts",
  env: NodeJS.ProcessEnv = process.env,
): string {
  const file = env.BENCH_SAVE === "1" ? join(RESULTS, `${name}-latest.md`) : join(RESULTS, "local", `${name}-latest.md`);
  mkdirSync(dirname(file), { recursive: true });
  return file;
}
