import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import lockfile from "proper-lockfile";

const STALE_MS = 10_000;

/**
 * PGlite takes no lock of its own and two processes on one directory corrupt it, so whoever
 * opens the embedded database holds this lock first (proper-lockfile: an atomic mkdir kept fresh
 * while the holder lives). A holder file beside it names the process for the refusal message.
 */
export function lockDataDir(dataDir: string, holder: string): () => void {
  mkdirSync(dataDir, { recursive: true });
  const options = {
    lockfilePath: join(dataDir, "embedded-db.lock"),
    realpath: false,
    stale: STALE_MS,
    // A blocked event loop (a long PGlite query) can delay the refresh: say so rather than crash.
    onCompromised: (error: Error) => console.error(`The embedded database's lock in ${dataDir}: ${error.message}`),
  };
  const holderFile = join(dataDir, "embedded-db.holder");
  let release: () => void;
  try {
    release = lockfile.lockSync(dataDir, options);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ELOCKED") throw error;
    const [pidText, other] = readHolder(holderFile);
    const pid = Number(pidText);
    // proper-lockfile waits for staleness (10 s); a holder that is gone from this machine is stale now.
    if (!pid || pid === process.pid || isAlive(pid)) {
      throw new Error(
        `The embedded database in ${dataDir} is in use by ${other ?? "another process"} (pid ${pidText ?? "?"}). ` +
          "Stop it first, or point DATABASE_URL at PostgreSQL to run several processes.",
        { cause: error },
      );
    }
    rmSync(options.lockfilePath, { recursive: true, force: true });
    release = lockfile.lockSync(dataDir, options);
  }
  writeFileSync(holderFile, `${process.pid}\n${holder}\n`);
  return () => {
    rmSync(holderFile, { force: true });
    release();
  };
}

function readHolder(file: string): [string | undefined, string | undefined] {
  try {
    const [pid, holder] = readFileSync(file, "utf8").split("\n");
    return [pid, holder];
  } catch {
    return [undefined, undefined];
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
