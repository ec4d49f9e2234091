// The published @approvalmatrix/client, used as an app outside this repository uses it: the package
// is built and packed (`pnpm pack`), installed with npm into a throwaway project in the OS temp
// directory next to nothing but typescript and tRPC from the registry, typechecked under `strict`
// with both "bundler" and "node16" module resolution, compiled, and run with plain node against a
// real server. Also prints the declaration size and the consumer's tsc time (README: Benchmarks).
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestApp, startTestApp, unlimitedKey } from "./harness";
import { must } from "@approvalmatrix/core";

const exec = promisify(execFile);
const CLIENT_DIR = new URL("../../../packages/client/", import.meta.url).pathname;
const catalog = readFileSync(new URL("../../../pnpm-workspace.yaml", import.meta.url), "utf8");
/** The range the packed package states for a peer: its catalog entry. */
const peerRange = (name: string) => new RegExp(`^  "?${name}"?: (.+)$`, "m").exec(catalog)?.[1] ?? "latest";
const typescriptVersion = (
  JSON.parse(readFileSync(createRequire(import.meta.url).resolve("typescript/package.json"), "utf8")) as { version: string }
).version;

/** The sample app: every call an integration makes, driving one request to approved. */
const APP_TS = `
import {
  type ApiErrorCode,
  type ApprovalMatrixClient,
  type RouterInputs,
  type RouterOutputs,
  apiErrorCode,
  createApprovalMatrixClient,
} from "@approvalmatrix/client";

async function refusal(call: Promise<unknown>): Promise<ApiErrorCode | null> {
  try {
    await call;
  } catch (error) {
    return apiErrorCode(error);
  }
  throw new Error("expected the call to fail");
}

export async function run(baseUrl: string, apiKey: string) {
  const client: ApprovalMatrixClient = createApprovalMatrixClient({ baseUrl, apiKey });
  const submission: RouterInputs["requests"]["create"] = {
    submitterRef: "EMP-1042",
    requestType: "purchase_order",
    title: "Printer toner",
    amount: 4500,
    metadata: { poNumber: "PO-77" },
  };
  const plan = await client.requests.dryRun.mutate(submission);
  const idempotencyKey = "outside-app-" + baseUrl;
  const created = await client.requests.create.mutate(submission, { context: { idempotencyKey } });
  const retried = await client.requests.create.mutate(submission, { context: { idempotencyKey } });
  const afterFirst = await client.requests.decide.mutate({ requestId: created.requestId, approverRef: "EMP-2001", decision: "approved" });
  await client.requests.decide.mutate({ requestId: created.requestId, approverRef: "EMP-3001", decision: "approved", comment: "OK" });
  const view: RouterOutputs["requests"]["get"] = await client.requests.get.query({ requestId: created.requestId });
  const page = await client.requests.list.query({ status: "approved", limit: 10 });
  const closed = await refusal(
    client.requests.decide.mutate({ requestId: created.requestId, approverRef: "EMP-3001", decision: "approved" }),
  );
  const missing = await refusal(client.requests.get.query({ requestId: "req_doesnotexist000000" }));
  const conflict = await refusal(client.requests.create.mutate({ ...submission, amount: 1 }, { context: { idempotencyKey } }));
  return {
    planned: plan.stages.map((s) => s.approvers.map((a) => a.ref)),
    createdId: created.requestId,
    retriedId: retried.requestId,
    afterFirst: [afterFirst.status, afterFirst.currentStage],
    final: view.status,
    decidedBy: view.decisions.map((d) => d.decidedByRef),
    listed: page.data.some((r) => r.requestId === created.requestId),
    errors: [closed, missing, conflict],
  };
}
`;

/**
 * Mistakes an app must not compile with. Each line has to stay an error: tsc reports an unused
 * @ts-expect-error (TS2578) as an error of its own, so the typecheck below fails if one compiles.
 */
const TYPE_ERRORS_TS = `
import { type RouterOutputs, apiErrorCode, createApprovalMatrixClient } from "@approvalmatrix/client";

const client = createApprovalMatrixClient({ baseUrl: "http://localhost", apiKey: "apx_live_x" });

export async function mistakes(error: unknown, view: RouterOutputs["requests"]["get"]) {
  // @ts-expect-error: a misspelt field name.
  await client.requests.create.mutate({ submitterRef: "EMP-1", requestType: "po", titel: "x" });
  // @ts-expect-error: a procedure that does not exist.
  await client.requests.approve.mutate({ requestId: "req_1" });
  // @ts-expect-error: the admin app's procedures are not part of the published client.
  await client.admin.members.list.query();
  // @ts-expect-error: "approved" or "rejected" only.
  await client.requests.decide.mutate({ requestId: "req_1", approverRef: "EMP-2", decision: "maybe" });
  // @ts-expect-error: a query has no mutate.
  await client.requests.get.mutate({ requestId: "req_1" });
  // @ts-expect-error: an output field that does not exist.
  console.log(view.statuz);
  // @ts-expect-error: not one of the API's error codes.
  if (apiErrorCode(error) === "already_approved") return;
  const status: "pending" | "in_progress" | "approved" | "rejected" | "cancelled" | "expired" = view.status;
  return status;
}
`;

/** A CommonJS module of the same app: resolves the package's "require" types and file. */
const CJS_CTS = `
import { apiErrorCode, createApprovalMatrixClient } from "@approvalmatrix/client";
export const loaded: boolean = typeof createApprovalMatrixClient === "function" && apiErrorCode(new Error("x")) === null;
`;

const RUN_MJS = `
import { createRequire } from "node:module";
import { run } from "./dist/app.js";
const { loaded } = createRequire(import.meta.url)("./dist/cjs.cjs");
const result = await run(process.env.APX_BASE_URL, process.env.APX_API_KEY);
console.log(JSON.stringify({ ...result, commonJs: loaded }));
`;

// skipLibCheck off: the package's declarations are checked too. tRPC's own need ESNext.Disposable.
const STRICT = {
  strict: true,
  noUncheckedIndexedAccess: true,
  target: "ES2022",
  lib: ["ES2022", "DOM", "ESNext.Disposable"],
  types: [],
  skipLibCheck: false,
};

let app: TestApp;
let project: string;
let declarations = "";
const timings: Record<string, number> = {};
/** A full strict check of the app (tRPC's declarations included) takes a while on a busy machine. */
const TSC_TIMEOUT = 180_000;
const diagnostics: Record<string, string> = {};

async function timed<T>(label: string, work: () => Promise<T>): Promise<T> {
  const start = performance.now();
  try {
    return await work();
  } finally {
    timings[label] = performance.now() - start;
  }
}

/** Runs the consumer's own tsc; a failure carries tsc's report. Returns tsc's own timings. */
async function tsc(config: string): Promise<string> {
  try {
    const { stdout } = await exec(
      process.execPath,
      [join(project, "node_modules/typescript/bin/tsc"), "-p", config, "--extendedDiagnostics"],
      {
        cwd: project,
      },
    );
    const figure = (label: string) => new RegExp(`^${label}:\\s+([\\d.]+)`, "m").exec(stdout)?.[1];
    // Types and instantiations do not depend on the machine's load; the times do.
    return `${figure("Types")} types, ${figure("Instantiations")} instantiations, check ${figure("Check time")} s, total ${figure("Total time")} s`;
  } catch (error) {
    throw new Error(`tsc -p ${config} failed:\n${(error as { stdout?: string }).stdout ?? String(error)}`, { cause: error });
  }
}

beforeAll(async () => {
  project = mkdtempSync(join(tmpdir(), "apx-client-app-"));
  const packDir = join(project, "pack");
  mkdirSync(packDir);
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "outside-app", private: true, type: "module" }));
  const npm = (args: string[]) => exec("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", ...args], { cwd: project });
  // The registry install runs while the client builds and packs, and the server starts.
  const [, , started] = await Promise.all([
    timed("build and pack", () => exec("npx", ["-y", "pnpm@10", "pack", "--pack-destination", packDir], { cwd: CLIENT_DIR })),
    timed("npm install (registry)", () =>
      npm([`typescript@${typescriptVersion}`, `@trpc/client@${peerRange("@trpc/client")}`, `@trpc/server@${peerRange("@trpc/server")}`]),
    ),
    startTestApp(),
  ]);
  app = started;
  const [tarball] = readdirSync(packDir);
  await timed("npm install (tarball)", () => npm([join(packDir, must(tarball))]));
  declarations = readFileSync(join(project, "node_modules/@approvalmatrix/client/dist/index.d.ts"), "utf8");

  mkdirSync(join(project, "src"));
  writeFileSync(join(project, "src/app.ts"), APP_TS);
  writeFileSync(join(project, "src/type-errors.ts"), TYPE_ERRORS_TS);
  writeFileSync(join(project, "src/cjs.cts"), CJS_CTS);
  writeFileSync(join(project, "run.mjs"), RUN_MJS);
  writeFileSync(
    join(project, "tsconfig.bundler.json"),
    JSON.stringify({ compilerOptions: { ...STRICT, module: "ESNext", moduleResolution: "bundler", noEmit: true }, include: ["src"] }),
  );
  writeFileSync(
    join(project, "tsconfig.node16.json"),
    JSON.stringify({ compilerOptions: { ...STRICT, module: "node16", moduleResolution: "node16", outDir: "dist" }, include: ["src"] }),
  );
}, 240_000);

afterAll(async () => {
  await app.close();
  if (project) rmSync(project, { recursive: true, force: true });
  const size = Buffer.byteLength(declarations);
  console.log(
    [
      "",
      "client package (outside app)         value",
      `declarations (index.d.ts)            ${(size / 1024).toFixed(1)} KiB`,
      ...Object.entries(timings).map(([label, ms]) => `${label.padEnd(36)} ${(ms / 1000).toFixed(1)} s`),
      ...Object.entries(diagnostics).map(([label, figures]) => `${label.padEnd(36)} ${figures}`),
    ].join("\n"),
  );
});

describe("@approvalmatrix/client installed from its tarball outside the workspace", () => {
  it("ships declarations that import only tRPC, and installs nothing of the server", () => {
    const imports = [...declarations.matchAll(/(?:from\s+|import\s*\(\s*)["']([^"']+)["']/g)].map((m) => m[1]);
    expect(new Set(imports)).toEqual(new Set(["@trpc/client", "@trpc/server"]));
    expect(declarations).not.toMatch(/zod|drizzle|postgres|pglite|ioredis|trpc-to-openapi|@approvalmatrix\//i);
    expect(declarations).toContain("export type AppRouter");
    const installed = readdirSync(join(project, "node_modules")).filter((n) => !n.startsWith("."));
    expect(installed.sort()).toEqual(["@approvalmatrix", "@trpc", "typescript"]);
    const manifest = JSON.parse(readFileSync(join(project, "node_modules/@approvalmatrix/client/package.json"), "utf8"));
    expect(manifest).toMatchObject({ sideEffects: false, exports: { ".": { import: { types: "./dist/index.d.ts" } } } });
    expect(manifest.private).toBeUndefined();
    expect(Object.keys(manifest.dependencies ?? {})).toEqual([]);
  });

  it.each(["bundler", "node16"])(
    "typechecks the app under strict with moduleResolution %s; the mistakes stay errors",
    async (mode) => {
      diagnostics[`consumer tsc (${mode}), tsc's own figures`] = await timed(`consumer tsc (${mode})`, () => tsc(`tsconfig.${mode}.json`));
    },
    TSC_TIMEOUT,
  );

  it(
    "runs with plain node against a server: create, dry-run, decide, get, list, error codes, an idempotent retry",
    async () => {
      // The node16 check above emitted dist/ (it runs first); compile here when run alone.
      if (!existsSync(join(project, "dist/app.js"))) await tsc("tsconfig.node16.json");
      const apiKey = await unlimitedKey(app, "outside app");
      const { stdout } = await exec(process.execPath, ["run.mjs"], {
        cwd: project,
        env: { ...process.env, APX_BASE_URL: app.url, APX_API_KEY: apiKey },
      });
      const result = JSON.parse(stdout);
      expect(result).toEqual({
        planned: [["EMP-2001"], ["EMP-3001"]],
        createdId: expect.stringMatching(/^req_/),
        retriedId: result.createdId,
        afterFirst: ["in_progress", 2],
        final: "approved",
        decidedBy: ["EMP-2001", "EMP-3001"],
        listed: true,
        errors: ["request_closed", "not_found", "idempotency_conflict"],
        commonJs: true,
      });
    },
    TSC_TIMEOUT,
  );
});
