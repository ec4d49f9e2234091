// Shared by bench:scale and bench:soak: a throwaway PostgreSQL database, compiled server processes
// (apps/web/dist/main.js, as production runs them) and what /proc says about them.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { randomBase62 } from "@approvalmatrix/core";
import postgres from "postgres";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

export const step = (message: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${message}`);

export interface BenchDatabase {
  url: string;
  drop(): Promise<void>;
}

export async function createBenchDatabase(prefix: string): Promise<BenchDatabase> {
  const name = `${prefix}_${Date.now()}`;
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${name}"`);
  return {
    url: Object.assign(new URL(ADMIN_URL), { pathname: `/${name}` }).toString(),
    async drop() {
      await admin.unsafe(`drop database if exists "${name}" with (force)`);
      await admin.end();
    },
  };
}

export interface ServerProcess {
  child: ChildProcess;
  url: string;
}

/** Environment shared by the servers and the CLI of one bench run. */
export function benchEnv(databaseUrl: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: databaseUrl,
    API_KEY_HASH_SECRET: randomBase62(48),
    RECEIPT_SIGNING_SECRET: randomBase62(48),
    NODE_ENV: "production",
    LOG_FORMAT: "json",
    LOG_LEVEL: "warn",
    SEED_DEMO: "true",
    ...extra,
  };
  delete env.REDIS_URL;
  if (process.env.REDIS_URL && process.env.BENCH_REDIS === "1") env.REDIS_URL = process.env.REDIS_URL;
  return env;
}

/** Starts node apps/web/dist/main.js on `port`; resolves once it answers /readyz. */
export async function startServer(env: NodeJS.ProcessEnv, port: number): Promise<ServerProcess> {
  const child = spawn(process.execPath, ["dist/main.js"], {
    cwd: `${ROOT}apps/web`,
    env: { ...env, PORT: String(port), HOST: "127.0.0.1" },
    stdio: ["ignore", "inherit", "inherit"],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`the server on ${port} exited (${child.exitCode})`);
    const ok = await fetch(`${url}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return { child, url };
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the server on ${port} did not become ready`);
}

export function stopServer(server: ServerProcess): Promise<void> {
  const { child } = server;
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill("SIGKILL"), 15_000);
    child.once("exit", () => {
      clearTimeout(force);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

/** A key of the demo tenant with a limit the bench never reaches, made by the compiled CLI. */
export function createBenchKey(env: NodeJS.ProcessEnv, scopes = "requests:write,requests:read,decisions:write"): string {
  const cli = spawnSync(
    process.execPath,
    [
      "dist/cli.js",
      "keys",
      "create",
      "--tenant",
      "acme",
      "--name",
      `bench-${randomBase62(6)}`,
      "--scopes",
      scopes,
      "--rate-limit",
      "1000000",
      "--json",
    ],
    { cwd: `${ROOT}apps/web`, env, encoding: "utf8" },
  );
  if (cli.status !== 0) throw new Error(cli.stderr);
  return (JSON.parse(cli.stdout) as { key: string }).key;
}

/** CPU time (user + system, ms) a process has used so far (Linux /proc, 100 Hz ticks). */
export function cpuMs(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ");
    if (!fields) return Number.NaN;
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return Number.NaN;
  }
}

/** Resident set size (MB) of a process, from /proc. */
export function rssMb(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    const line = readFileSync(`/proc/${pid}/status`, "utf8")
      .split("\n")
      .find((l) => l.startsWith("VmRSS:"));
    return line ? Number(line.replace(/\D+/g, "")) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

export const PURCHASE_ORDER = {
  submitterRef: "EMP-1042",
  requestType: "purchase_order",
  title: "Bench order",
  amount: 4500,
  currency: "USD",
  metadata: { department: "Engineering" },
};
