import { execFileSync } from "node:child_process";
import { relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { resultsFile } from "./results-file";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** Whether git would ignore `file` (git check-ignore exits 1 for a file it would track). */
const ignored = (file: string) => {
  try {
    execFileSync("git", ["check-ignore", "-q", relative(ROOT, file)], { cwd: ROOT });
    return true;
  } catch {
    return false;
  }
};

describe("benchmark results", () => {
  it("go to an untracked file by default, so a run leaves the tree clean", () => {
    for (const name of ["load", "members"] as const) {
      const file = resultsFile(name, {});
      expect(relative(ROOT, file)).toBe(`tooling/bench/results/local/${name}-latest.md`);
      expect(ignored(file)).toBe(true);
    }
  });

  it("update the tracked results/<name>-latest.md only with BENCH_SAVE=1", () => {
    const file = resultsFile("load", { BENCH_SAVE: "1" });
    expect(relative(ROOT, file)).toBe("tooling/bench/results/load-latest.md");
    expect(ignored(file)).toBe(false);
  });
});
