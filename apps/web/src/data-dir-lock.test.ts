import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { lockDataDir } from "./data-dir-lock";

const dirs: string[] = [];
const children: ChildProcess[] = [];
const fresh = () => {
  const dir = mkdtempSync(join(tmpdir(), "apx-lock-"));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  children.splice(0).forEach((c) => c.kill("SIGKILL"));
  dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true }));
});

/** Another process holding the lock as the server would, until it is killed. */
async function holdInAnotherProcess(dir: string): Promise<ChildProcess> {
  const script = `import(${JSON.stringify(new URL("./data-dir-lock.ts", import.meta.url).href)}).then((m) => {
    m.lockDataDir(${JSON.stringify(dir)}, "the ApprovalMatrix server"); console.log("locked"); setInterval(() => {}, 1000);
  })`;
  const child = spawn(process.execPath, ["--import", "tsx", "-e", script], { stdio: ["ignore", "pipe", "inherit"] });
  children.push(child);
  await new Promise<void>((resolve, reject) => {
    child.stdout.on("data", (chunk: Buffer) => chunk.toString().includes("locked") && resolve());
    child.once("exit", (code) => reject(new Error(`lock holder exited with ${code}`)));
  });
  return child;
}

describe("the embedded database's lock", () => {
  it("refuses a second process while the first is alive, naming it", { timeout: 60_000 }, async () => {
    const dir = fresh();
    const server = await holdInAnotherProcess(dir);
    expect(() => lockDataDir(dir, "the ApprovalMatrix CLI")).toThrow(
      new RegExp(`in use by the ApprovalMatrix server \\(pid ${server.pid}\\)[\\s\\S]*DATABASE_URL`),
    );
  });

  it("takes over at once from a process that was killed, and releases it", { timeout: 60_000 }, async () => {
    const dir = fresh();
    const server = await holdInAnotherProcess(dir);
    server.kill("SIGKILL");
    await new Promise((resolve) => server.once("exit", resolve));
    const release = lockDataDir(dir, "the ApprovalMatrix CLI");
    expect(existsSync(join(dir, "embedded-db.lock"))).toBe(true);
    // Held by this process now: another process is refused.
    expect(() => lockDataDir(dir, "another CLI")).toThrow(/in use by the ApprovalMatrix CLI/);
    release();
    expect(existsSync(join(dir, "embedded-db.lock"))).toBe(false);
    lockDataDir(dir, "the next server")();
  });
});
