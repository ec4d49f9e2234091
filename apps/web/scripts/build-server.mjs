#!/usr/bin/env node
// Compiles the server and the CLI to plain JavaScript in dist/ (what `pnpm start`, the Docker image
// and the `approvalmatrix` bin run: no tsx or esbuild at run time).
//
// Bundled with esbuild: the workspace packages export TypeScript sources, so a per-package tsc
// build would need an emit step and a second set of `exports` in every package; one bundle needs
// neither. The app's own dependencies (package.json "dependencies") stay external and load from
// node_modules as usual: PGlite finds its wasm/data files beside its own module, the admin app's
// Remix build shares React and Remix with the server, pino and prom-client keep their workers and
// singletons. What only the workspace packages import (drizzle-orm, postgres, ioredis, trpc-to-openapi…)
// is bundled in, so nothing has to be hoisted for dist/ to resolve it.
import { copyFileSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const appRoot = fileURLToPath(new URL("..", import.meta.url));
const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
const external = Object.keys(manifest.dependencies).filter((name) => !name.startsWith("@approvalmatrix/"));

/** A bare import is external when it names one of the app's own dependencies (or a subpath of one). */
const externalDependencies = {
  name: "external-dependencies",
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith("node:")) return { path: args.path, external: true };
      const name = args.path.startsWith("@") ? args.path.split("/").slice(0, 2).join("/") : args.path.split("/")[0];
      return external.includes(name) ? { path: args.path, external: true } : undefined;
    });
  },
};

const outdir = `${appRoot}dist`;
rmSync(outdir, { recursive: true, force: true });
mkdirSync(outdir, { recursive: true });

const common = {
  absWorkingDir: appRoot,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  sourcemap: "linked",
  logLevel: "warning",
  legalComments: "none",
  plugins: [externalDependencies],
  // Bundled CommonJS modules call require(): give the ES module one.
  banner: { js: 'import { createRequire as __createRequire } from "node:module"; const require = __createRequire(import.meta.url);' },
};

await build({
  ...common,
  entryPoints: { main: "src/main.ts", "cli-main": "src/cli.ts" },
  outdir,
  splitting: true,
  chunkNames: "chunks/[name]-[hash]",
});
// The bin: answers --help without loading the server's module graph (see src/cli-bin.ts).
await build({ ...common, entryPoints: { cli: "src/cli-bin.ts" }, outdir, banner: { js: "#!/usr/bin/env node" } });
copyFileSync(`${appRoot}src/cli-usage.txt`, `${outdir}/cli-usage.txt`);
console.log(`built ${outdir}: main.js (server), cli.js (the approvalmatrix bin)`);
