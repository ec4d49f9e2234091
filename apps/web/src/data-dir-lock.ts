import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * PGlite takes no lock of its own and two processes on one directory corrupt it, so whoever
 * opens the embedded database holds this pid file first.
 */
export function lockDataDir(dataDir: string, holder: string): () => void {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, "embedded-db.lock");
  if (existsSync(file)) {
    const [pidText, other] = readFileSync(file, "utf8").split("\n");
    const pid = Number(pidText);
    if (pid && pid !== process.pid && isAlive(pid)) {
      throw new Error(
        `The embedded database in ${dataDir} is in use by ${other ?? "another process"} (pid ${pid}). ` +
          "Stop it first, or point DATABASE_URL at PostgreSQL to run several processes.",
      );
    }
  }
  writeFileSync(file, `${process.pid}\n${holder}\n`);
  return () => rmSync(file, { force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
