import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { lockDataDir } from "./data-dir-lock";

const dirs: string[] = [];
const fresh = () => {
  const dir = mkdtempSync(join(tmpdir(), "apx-lock-"));
  dirs.push(dir);
  return dir;
};
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

describe("the embedded database's lock", () => {
  it("refuses a second process while the first is alive, naming it", async () => {
    const dir = fresh();
    const other = spawn(process.execPath, ["-e", "setTimeout(() => {}, 30000)"]);
    try {
      writeFileSync(join(dir, "embedded-db.lock"), `${other.pid}\nthe ApprovalMatrix server\n`);
      expect(() => lockDataDir(dir, "the ApprovalMatrix CLI")).toThrow(
        /in use by the ApprovalMatrix server \(pid \d+\)[\s\S]*DATABASE_URL/,
      );
    } finally {
      other.kill();
    }
  });

  it("takes over a lock left by a process that died, and releases it", () => {
    const dir = fresh();
    writeFileSync(join(dir, "embedded-db.lock"), "999999999\nthe ApprovalMatrix server\n");
    const release = lockDataDir(dir, "the ApprovalMatrix CLI");
    expect(existsSync(join(dir, "embedded-db.lock"))).toBe(true);
    release();
    expect(existsSync(join(dir, "embedded-db.lock"))).toBe(false);
  });
});
