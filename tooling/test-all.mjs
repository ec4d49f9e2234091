#!/usr/bin/env node
// Runs every workspace package's Vitest suite one after the other (a 2-core machine does not
// gain from running them at once: each API test file already starts its own server and database),
// then prints the totals across all packages as the last line: "N passed, N failed[, N skipped]".
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const only = process.argv.slice(2);

const packages = ["packages", "apps", "tooling"]
  .flatMap((dir) => (existsSync(join(root, dir)) ? readdirSync(join(root, dir)).map((name) => join(root, dir, name)) : []))
  .filter((dir) => existsSync(join(dir, "package.json")))
  .map((dir) => ({ dir, manifest: JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) }))
  .filter(({ manifest }) => manifest.scripts?.test?.startsWith("vitest"))
  .filter(({ manifest }) => only.length === 0 || only.some((o) => manifest.name.includes(o)));

const totals = { passed: 0, failed: 0, skipped: 0 };
const rows = [];
let broken = false;

for (const { dir, manifest } of packages) {
  const report = join(dir, "test-results", "vitest.json");
  rmSync(report, { force: true });
  mkdirSync(join(dir, "test-results"), { recursive: true });
  console.log(`\n━━ ${manifest.name} (${relative(root, dir)}) ━━`);
  const run = spawnSync(
    "npx",
    ["vitest", "run", "--passWithNoTests", "--reporter=default", "--reporter=json", `--outputFile.json=${report}`],
    { cwd: dir, stdio: "inherit", env: process.env },
  );
  if (!existsSync(report)) {
    console.error(`${manifest.name}: vitest wrote no report (exit ${run.status})`);
    broken = true;
    rows.push([manifest.name, "-", "-", "-", "no report"]);
    continue;
  }
  const result = JSON.parse(readFileSync(report, "utf8"));
  const passed = result.numPassedTests ?? 0;
  const failed = (result.numFailedTests ?? 0) + (run.status !== 0 && !result.numFailedTests ? 1 : 0);
  const skipped = (result.numPendingTests ?? 0) + (result.numTodoTests ?? 0);
  if (run.status !== 0) broken = true;
  totals.passed += passed;
  totals.failed += failed;
  totals.skipped += skipped;
  rows.push([manifest.name, passed, failed, skipped, run.status === 0 ? "ok" : `exit ${run.status}`]);
}

console.log("\npackage                      passed  failed  skipped  status");
for (const [name, p, f, s, status] of rows) {
  console.log(`${String(name).padEnd(28)} ${String(p).padStart(6)}  ${String(f).padStart(6)}  ${String(s).padStart(7)}  ${status}`);
}
console.log(`${totals.passed} passed, ${totals.failed} failed${totals.skipped ? `, ${totals.skipped} skipped` : ""}`);
process.exit(broken || totals.failed > 0 ? 1 : 0);
