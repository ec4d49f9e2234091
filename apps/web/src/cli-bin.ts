// The compiled `approvalmatrix` bin (dist/cli.js). Help is answered before anything else loads: the
// CLI's module graph (the API, drizzle, the drivers) costs more than a bare Node start.
import { readFileSync } from "node:fs";

const args = process.argv.slice(2);
if (args.length === 0 || args.includes("--help") || args.includes("-h")) {
  process.stdout.write(readFileSync(new URL("./cli-usage.txt", import.meta.url), "utf8"));
  process.exit(args.length === 0 ? 1 : 0);
}
// Built beside this file by scripts/build-server.mjs; a variable keeps the bundler from inlining it.
const entry = "./cli-main.js";
await import(entry);
