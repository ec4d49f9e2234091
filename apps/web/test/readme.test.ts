// The README's commands, run as a new user would: the start command, the curl walk-through and
// the CLI block. Keeps the README true.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestApp, startTestApp } from "./harness";
import { must } from "@approvalmatrix/core";

const ROOT = new URL("../../../", import.meta.url).pathname;
const readme = readFileSync(join(ROOT, "README.md"), "utf8");
const run = promisify(execFile);

/** The fenced bash blocks under a heading of the README. */
function bashBlocks(heading: string): string[] {
  const start = readme.indexOf(`## ${heading}`);
  expect(start, `README has a "${heading}" section`).toBeGreaterThan(-1);
  const end = readme.indexOf("\n## ", start + 3);
  const section = readme.slice(start, end === -1 ? undefined : end);
  return [...section.matchAll(/```bash\n([\s\S]*?)```/g)].map((m) => must(m[1]));
}

function waitForOutput(child: ChildProcess, pattern: RegExp, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern}:\n${output}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (pattern.test(output)) {
        clearTimeout(timer);
        resolve(output);
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before ${pattern}:\n${output}`));
    });
  });
}

describe("README: the start command", () => {
  it(
    "starts the product on the embedded database and prints the admin URL, the docs URL and a working demo key",
    { timeout: 240_000 },
    async () => {
      const [command] = bashBlocks("Two commands");
      expect(must(command).trim()).toBe("npx -y pnpm@10 install && npx -y pnpm@10 start");
      const dataDir = mkdtempSync(join(tmpdir(), "apx-readme-"));
      // The install half has already run (this test runs inside the installed workspace); running it
      // again here could relink node_modules under the test files running beside this one.
      const startCommand = must(must(command).split("&&")[1]).trim();
      const child = spawn("bash", ["-c", startCommand], {
        cwd: ROOT,
        env: { ...process.env, PORT: "0", DATA_DIR: dataDir, DATABASE_URL: "", REDIS_URL: "", NODE_ENV: "development" },
        detached: true,
      });
      try {
        const output = await waitForOutput(child, /Demo API key\s+apx_live_\w{32}[\s\S]*Try it/, 180_000);
        const admin = must(must(/Admin app\s+(http:\S+)/.exec(output))[1]);
        const docs = must(must(/API docs\s+(http:\S+)/.exec(output))[1]);
        const key = must(must(/Demo API key\s+(apx_live_\w{32})/.exec(output))[1]);
        expect(output).toContain("embedded PGlite");
        expect(output).toMatch(/admin@acme\.example\s+\S+\s+\(owner\)/);
        const docsPage = await fetch(docs);
        expect(docsPage.status).toBe(200);
        expect(await docsPage.text()).toContain("/v1/openapi.json");
        expect((await fetch(admin, { redirect: "manual" })).status).toBeLessThan(400);
        const dryRun = await fetch(docs.replace("/docs", "/v1/requests/test"), {
          method: "POST",
          headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
          body: JSON.stringify({ submitterRef: "EMP-1042", requestType: "purchase_order", title: "Office Supplies Q3", amount: 4500 }),
        });
        expect(await dryRun.json()).toMatchObject({ dryRun: true, matrixName: "Engineering PO Matrix" });
      } finally {
        if (child.pid) process.kill(-child.pid, "SIGTERM");
        await new Promise((r) => setTimeout(r, 1500));
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
  );
});

describe("README: the curl walk-through", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.close());

  it("runs as written and drives a request to approved and another to cancelled", async () => {
    const [setup, walk] = bashBlocks("A walk through the API with curl");
    expect(setup).toContain("export BASE=");
    const { stdout } = await run("bash", ["-euo", "pipefail", "-c", must(walk)], {
      env: { ...process.env, BASE: app.url, KEY: app.demoKey },
    });
    const bodies = stdout
      .replace(/}\s*{/g, "}\n{")
      .split("\n")
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as Record<string, any>);
    expect(bodies.filter((b) => b.error)).toEqual([]);
    expect(bodies[0]).toMatchObject({ dryRun: true });
    expect(bodies[1]).toMatchObject({ status: "pending", currentStage: 1, pendingApprovers: [{ ref: "EMP-2001" }] });
    expect(bodies[4]).toMatchObject({ status: "approved", currentStage: null });
    expect(must(bodies[4]).decisions.map((d: { decidedBy: string }) => d.decidedBy)).toEqual(["Jane Smith", "Bob Lee"]);
    expect(must(bodies[5]).data.length).toBeGreaterThan(0);
    expect(bodies[6]).toMatchObject({ status: "cancelled", cancelReason: "Plans changed" });
  });
});

describe("README: the operator CLI", () => {
  it("runs every command of the CLI block against a fresh embedded database", { timeout: 480_000 }, async () => {
    const [block] = bashBlocks("The operator CLI");
    const dataDir = mkdtempSync(join(tmpdir(), "apx-cli-"));
    try {
      const env = { ...process.env, DATA_DIR: dataDir, DATABASE_URL: "", REDIS_URL: "" };
      const outputs: string[] = [];
      for (const command of must(block)
        .split("\n")
        .filter((l) => l.trim() && !l.startsWith("#"))) {
        outputs.push((await run("bash", ["-c", command], { cwd: ROOT, env })).stdout);
      }
      expect(outputs.join("\n")).toMatch(/apx_live_\w{32}/);
      expect(outputs.join("\n")).toMatch(/Created owner ann\.lee@globex\.example[\s\S]*One-time password: \S+/);
      expect(outputs.at(-2)).toContain("ERP integration");
      expect(outputs.at(-1)).toContain("globex");
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!process.env.TEST_DATABASE_URL)("README: running on PostgreSQL", () => {
  it("starts without a demo tenant, and the CLI block gives the first tenant an owner who can sign in", { timeout: 300_000 }, async () => {
    const [start, firstTenant] = bashBlocks("Running on PostgreSQL");
    const admin = postgres(must(process.env.TEST_DATABASE_URL), { max: 1, onnotice: () => {} });
    const dbName = `apx_readme_${Date.now()}_${process.pid}`;
    await admin.unsafe(`create database "${dbName}"`);
    const url = new URL(must(process.env.TEST_DATABASE_URL));
    url.pathname = `/${dbName}`;
    const dataDir = mkdtempSync(join(tmpdir(), "apx-readme-pg-"));
    // The README's database name, pointed at this run's throwaway database.
    const script = (block: string) => block.replaceAll("postgres://postgres@127.0.0.1:5432/approvalmatrix", url.href);
    const env = {
      ...process.env,
      PORT: "0",
      DATA_DIR: dataDir,
      SEED_DEMO: "",
      NODE_ENV: "development" as const,
      REDIS_KEY_PREFIX: `apx-readme-${process.pid}:`,
    };
    const child = spawn("bash", ["-c", script(must(start))], { cwd: ROOT, env, detached: true });
    try {
      const output = await waitForOutput(child, /Admin app\s+(http:\S+)[\s\S]*Try it/, 180_000);
      expect(output).toContain(`PostgreSQL`);
      expect(output).not.toMatch(/apx_live_\w{32}/);
      expect(output).toContain("Demo tenant   none");
      const base = must(must(/Admin app\s+(http:\S+)\//.exec(output))[1]);

      const { stdout } = await run("bash", ["-euo", "pipefail", "-c", `export DATABASE_URL=${url.href}\n${must(firstTenant)}`], {
        cwd: ROOT,
        env,
      });
      const password = /One-time password: (\S+)/.exec(stdout)?.[1];
      expect(password, stdout).toBeTruthy();
      const signIn = await fetch(`${base}/sign-in`, {
        method: "POST",
        redirect: "manual",
        headers: { Origin: base, "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ email: "owner@globex.example", password: must(password), redirectTo: "" }).toString(),
      });
      expect(signIn.status).toBe(302);
      expect(signIn.headers.getSetCookie().join(";")).toMatch(/=\w+/);
    } finally {
      if (child.pid) process.kill(-child.pid, "SIGTERM");
      await new Promise((r) => setTimeout(r, 1500));
      await admin.unsafe(`drop database if exists "${dbName}" with (force)`);
      await admin.end();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
