// The operator CLI as an operator runs it: `pnpm cli …` from the shell, over a fresh embedded database.
import { execFile, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { createAdminAuth } from "@approvalmatrix/auth";
import { TENANT_ROLES } from "@approvalmatrix/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readEnv } from "../src/env";
import { openRuntime } from "../src/runtime";
import { must } from "@approvalmatrix/core";

const ROOT = new URL("../../../", import.meta.url).pathname;
const WEB = new URL("../", import.meta.url).pathname;
const run = promisify(execFile);

let dataDir: string;
let env: NodeJS.ProcessEnv;
beforeAll(() => {
  dataDir = mkdtempSync(join(tmpdir(), "apx-cli-"));
  env = { ...process.env, DATA_DIR: dataDir, DATABASE_URL: "", REDIS_URL: "", NODE_ENV: "development" };
});
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** `npx -y pnpm@10 cli <args>` from `cwd`, with `stdin` piped in when given. */
function cli(args: string[], options: { cwd?: string; stdin?: string } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn("npx", ["-y", "pnpm@10", "cli", ...args], { cwd: options.cwd ?? ROOT, env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.stdin.end(options.stdin ?? "");
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

describe("the operator CLI", () => {
  it("prints its help without loading TypeScript or the server (fast)", async () => {
    const launcher = join(WEB, "src", "cli-launcher.mjs");
    const started = performance.now();
    await run(process.execPath, ["-e", "0"]);
    const bareNode = performance.now() - started;
    const helpStarted = performance.now();
    const { stdout } = await run(process.execPath, [launcher, "--help"]);
    const help = performance.now() - helpStarted;
    expect(stdout).toContain("users create");
    // Loading the server's module graph through tsx took ≈15× a bare Node start; help costs about one.
    expect(help).toBeLessThan(Math.max(1000, bareNode * 4));
  });

  it("is a compiled bin (dist/cli.js) that answers --help about as fast as a bare Node start", async () => {
    const bin = join(WEB, "dist", "cli.js");
    // Best of three of each: a shared machine's noise hits single runs.
    const timed = async (args: string[]) => {
      let best = Number.POSITIVE_INFINITY;
      let stdout = "";
      for (let i = 0; i < 3; i++) {
        const started = performance.now();
        stdout = (await run(process.execPath, args)).stdout;
        best = Math.min(best, performance.now() - started);
      }
      return { best, stdout };
    };
    const bare = await timed(["-e", "0"]);
    const help = await timed([bin, "--help"]);
    expect(help.stdout).toContain("users create");
    expect(help.best).toBeLessThan(Math.max(500, bare.best * 2.5));
    // Commands run the bundled CLI, not TypeScript: the bin loads dist/cli-main.js.
    const { stdout } = await run(process.execPath, [bin, "tenants", "list"], { env });
    expect(stdout).toMatch(/\(none\)|slug/);
  });

  it("creates a tenant's first owner, who can then sign in, and lists the tenant's users", { timeout: 480_000 }, async () => {
    expect((await cli(["tenants", "create", "--name", "Initech", "--slug", "initech"])).code).toBe(0);

    const owner = await cli([
      "users",
      "create",
      "--tenant",
      "initech",
      "--email",
      "Olga@Initech.example",
      "--name",
      "Olga Owner",
      "--role",
      "owner",
    ]);
    // stderr may carry npm's own warnings (npm_config_* set by an outer pnpm): the exit code is what counts.
    expect(owner.code, owner.stderr).toBe(0);
    const password = /One-time password: (\S+)/.exec(owner.stdout)?.[1];
    expect(password, owner.stdout).toMatch(/^\w{6}-\w{6}-\w{6}$/);

    const approver = await cli(
      [
        "users",
        "create",
        "--tenant",
        "initech",
        "--email",
        "pat@initech.example",
        "--name",
        "Pat Approver",
        "--role",
        "approver",
        "--password-stdin",
      ],
      { stdin: "a long passphrase of mine\n" },
    );
    expect(approver.code).toBe(0);
    expect(approver.stdout).not.toContain("One-time password");

    const badRole = await cli(["users", "create", "--tenant", "initech", "--email", "x@initech.example", "--name", "X", "--role", "root"]);
    expect(badRole.code).toBe(2);
    expect(badRole.stderr).toContain(`--role must be one of ${TENANT_ROLES.join(", ")}.`);

    const list = await cli(["users", "list", "--tenant", "initech"]);
    expect(list.stdout).toMatch(/olga@initech\.example\s+Olga Owner\s+owner/);
    expect(list.stdout).toMatch(/pat@initech\.example\s+Pat Approver\s+approver/);

    // Both can sign in to the admin app, with the printed password and the one given on stdin.
    const runtime = await openRuntime(readEnv(env), "the CLI test");
    try {
      const auth = createAdminAuth(runtime.deps.db, runtime.deps.rateLimiter, { secureCookies: false });
      const signedIn = await auth.signIn({ email: "olga@initech.example", password: must(password), clientIp: "127.0.0.1" });
      expect(signedIn).toMatchObject({ ok: true, user: { role: "owner", email: "olga@initech.example" } });
      const pat = await auth.signIn({ email: "pat@initech.example", password: "a long passphrase of mine", clientIp: "127.0.0.1" });
      expect(pat).toMatchObject({ ok: true, user: { role: "approver" } });
    } finally {
      await runtime.close();
    }
  });

  it("reads --file relative to the caller's directory, not apps/web", { timeout: 240_000 }, async () => {
    const here = join(WEB, "test-results", "cli-cwd");
    mkdirSync(here, { recursive: true });
    writeFileSync(
      join(here, "matrix.json"),
      JSON.stringify({
        name: "Initech PO",
        requestType: "purchase_order",
        stages: [{ name: "Manager", approvers: { type: "manager" }, rule: "any" }],
      }),
    );
    const created = await cli(["matrices", "create", "--tenant", "initech", "--file", "matrix.json", "--json"], { cwd: here });
    expect(created.code, created.stderr).toBe(0);
    // Inside apps/web, pnpm runs the package's own script and prints its "> …" banner first.
    expect(JSON.parse(created.stdout.slice(created.stdout.indexOf("{")))).toMatchObject({ id: expect.stringMatching(/^mat_/) });
  });
});
