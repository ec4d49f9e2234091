// The CLI's entry point, plain JavaScript on purpose: loading TypeScript through tsx costs ≈0.4 s
// of CPU before anything runs, and the help must not pay it (nor the server's module graph).
import { readFileSync } from "node:fs";

const args = process.argv.slice(2);
if (args.length === 0 || args.includes("--help") || args.includes("-h")) {
  process.stdout.write(readFileSync(new URL("./cli-usage.txt", import.meta.url), "utf8"));
  process.exit(args.length === 0 ? 1 : 0);
}
const { register } = await import("tsx/esm/api");
register();
await import("./cli.ts");
