/**
 * One test per dependency patch in tooling/patches (see its README): each checks behaviour the
 * patch brings, so it fails when pnpm did not apply the patch (a version bump, a lost hash).
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { initTRPC } from "@trpc/server";
import { type OpenApiMeta, createOpenApiNodeHttpHandler } from "trpc-to-openapi";
import postgres from "postgres";
import { describe, expect, it } from "vitest";
import { z } from "zod";

const require = createRequire(import.meta.url);

describe("postgres@3.4.9.patch (connection queue)", () => {
  // The queue every pool keeps its connections and queries in; loaded beside the entry the package resolves to.
  type Queue<T> = { length: number; push(x: T): T; shift(): T; remove(x: T): T | null };
  const Queue = require(join(dirname(require.resolve("postgres")), "queue.js")) as (initial?: unknown[]) => Queue<unknown>;

  it("searches only the live part: a shifted slot is gone, not a hole that remove() can hit", () => {
    const queue = Queue();
    const [a, b] = [{ id: "a" }, { id: "b" }];
    queue.push(a);
    queue.push(b);
    queue.shift();
    // Unpatched, shift() leaves `undefined` in the slot and remove() scans from 0: it splices that
    // hole out and the queue then claims to be empty while b is still in it.
    expect(queue.remove(undefined)).toBeNull();
    expect(queue.length).toBe(1);
    expect(queue.shift()).toBe(b);
  });

  it("stays consistent under steady load that never drains it (the pool's open queue)", () => {
    const queue = Queue();
    queue.push(0);
    let inOrder = true;
    for (let i = 1; i <= 100_000; i++) {
      queue.push(i);
      inOrder &&= queue.shift() === i - 1;
    }
    expect(inOrder).toBe(true);
    expect(queue.length).toBe(1);
    expect(queue.remove(100_000)).toBe(100_000);
    expect(queue.length).toBe(0);
  });
});

describe("postgres@3.4.9.patch (the most recently idle connection first)", () => {
  type Queue<T> = { length: number; push(x: T): T; shift(): T; pop(): T | undefined };
  const Queue = require(join(dirname(require.resolve("postgres")), "queue.js")) as (initial?: unknown[]) => Queue<unknown>;
  it("pops the newest entry, after shifts too, and is empty afterwards", () => {
    const queue = Queue();
    for (const x of ["a", "b", "c", "d"]) queue.push(x);
    expect(queue.shift()).toBe("a");
    expect(queue.pop()).toBe("d");
    expect(queue.pop()).toBe("c");
    expect(queue.length).toBe(1);
    expect(queue.pop()).toBe("b");
    expect(queue.pop()).toBeUndefined();
    expect(queue.length).toBe(0);
    queue.push("e");
    expect(queue.shift()).toBe("e");
  });

  it("hands a lone query the connection that was idle the shortest time", async () => {
    const url = process.env.TEST_DATABASE_URL;
    if (!url) return; // PostgreSQL only (CI sets it)
    const sql = postgres(url, { max: 3, onnotice: () => {} });
    try {
      // Three connections busy at once, then idle in the order they finish: the slowest last.
      const pids = await Promise.all(
        [0.05, 0.1, 0.15].map(async (s) => (await sql`select pg_backend_pid() as pid, pg_sleep(${s})`)[0]?.pid as number),
      );
      const next = (await sql`select pg_backend_pid() as pid`)[0]?.pid as number;
      expect(next).toBe(pids[2]);
    } finally {
      await sql.end();
    }
  });
});

describe("postgres@3.4.9.patch (pool state from its queues)", () => {
  it("reports connections in use and queries waiting, without counting anything per query", async () => {
    const url = process.env.TEST_DATABASE_URL;
    if (!url) return; // PostgreSQL only (CI sets it)
    const sql = postgres(url, { max: 2, onnotice: () => {} });
    try {
      expect(sql.poolStats()).toEqual({ max: 2, inUse: 0, waiting: 0 });
      // Two open transactions hold both connections; a third query has to wait for one.
      let release = () => {};
      const held = new Promise<void>((resolve) => (release = resolve));
      let begun = 0;
      const both = new Promise<void>((resolve) => {
        const transaction = () =>
          sql.begin(async (tx) => {
            await tx`select 1`;
            if (++begun === 2) resolve();
            await held;
          });
        void Promise.all([transaction(), transaction()]);
      });
      await both;
      const third = sql`select 1 as one`;
      const waiting = third.then((rows) => rows[0]?.one as number);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(sql.poolStats()).toEqual({ max: 2, inUse: 2, waiting: 1 });
      release();
      expect(await waiting).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(sql.poolStats()).toEqual({ max: 2, inUse: 0, waiting: 0 });
    } finally {
      await sql.end();
    }
  });
});

describe("@trpc__server@11.25.2.patch (native spread in the middleware chain)", () => {
  it("copies the context once per merge: one ownKeys pass, not the transpiled helper's two", async () => {
    const t = initTRPC.context<Record<string, unknown>>().create();
    const merging = t.middleware(({ next }) => next({ ctx: { extra: 1 } }));
    const router = t.router({
      plain: t.procedure.query(() => "ok"),
      merged: t.procedure.use(merging).query(() => "ok"),
    });
    const ownKeysCalls = async (path: "plain" | "merged") => {
      let calls = 0;
      const ctx = new Proxy<Record<string, unknown>>(
        { tenant: "t" },
        {
          ownKeys(target) {
            calls++;
            return Reflect.ownKeys(target);
          },
        },
      );
      await t.createCallerFactory(router)(ctx)[path]();
      return calls;
    };
    // The merge spreads the caller's context into a new one: native spread (and Object.assign)
    // enumerate it once; Babel's _objectSpread2 asks for its keys and, separately, its symbols.
    expect((await ownKeysCalls("merged")) - (await ownKeysCalls("plain"))).toBe(1);
  });
});

describe("trpc-to-openapi@3.3.0.patch (REST bridge)", () => {
  async function serve(handler: ReturnType<typeof createOpenApiNodeHttpHandler>) {
    const server = createServer((req, res) => void handler(req, res));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return { url, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
  }

  it("creates the abort signal only when asked, never mutates the schemas, and reads query keys as data", async () => {
    const t = initTRPC.meta<OpenApiMeta>().create();
    const input = z.strictObject({ n: z.number().optional(), flag: z.boolean().optional() });
    const router = t.router({
      echo: t.procedure
        .meta({ openapi: { method: "GET", path: "/echo" } })
        .input(input)
        .output(z.unknown())
        .query(({ input }) => input),
      create: t.procedure
        .meta({ openapi: { method: "POST", path: "/echo" } })
        .input(input)
        .output(z.unknown())
        .mutation(({ input }) => input),
    });
    let signalIsLazy: boolean | undefined;
    const handler = createOpenApiNodeHttpHandler({
      router,
      createContext: ({ info }) => {
        signalIsLazy = typeof Object.getOwnPropertyDescriptor(info, "signal")?.get === "function";
        return {};
      },
    });
    const { url, close } = await serve(handler);
    try {
      const ok = await fetch(`${url}/echo?n=12&flag=true`);
      expect(await ok.json()).toEqual({ n: 12, flag: true });
      expect(signalIsLazy).toBe(true);
      // Query numbers only from canonical decimal text.
      expect((await fetch(`${url}/echo?n=1e3`)).status).toBe(400);
      // Object.prototype's names are plain (unknown) parameters: 400, not a crash.
      expect((await fetch(`${url}/echo?constructor=1`)).status).toBe(400);
      // A JSON body is never coerced, and the schema a REST call used is left as it was.
      const body = await fetch(`${url}/echo`, { method: "POST", headers: { "Content-Type": "application/json" }, body: '{"n":"12"}' });
      expect(body.status).toBe(400);
      expect(input.safeParse({ n: "12" }).success).toBe(false);
    } finally {
      await close();
    }
  });
  it("calls each procedure directly, with its path, type and context, and keeps query arrays and void inputs", async () => {
    const t = initTRPC.context<{ caller: string }>().meta<OpenApiMeta>().create();
    const seen: { path: string; type: string; caller: string }[] = [];
    const spy = t.middleware(({ path, type, ctx, next }) => {
      seen.push({ path, type, caller: ctx.caller });
      return next();
    });
    const router = t.router({
      lists: t.router({
        tags: t.procedure
          .use(spy)
          .meta({ openapi: { method: "GET", path: "/tags/{id}" } })
          .input(z.strictObject({ id: z.string(), tag: z.array(z.string()).optional() }))
          .output(z.unknown())
          .query(({ input }) => input),
      }),
      ping: t.procedure
        .use(spy)
        .meta({ openapi: { method: "POST", path: "/ping" } })
        .input(z.void())
        .output(z.object({ pong: z.boolean() }))
        .mutation(() => ({ pong: true, extra: "stripped by the output schema" })),
    });
    const handler = createOpenApiNodeHttpHandler({ router, createContext: () => ({ caller: "rest" }) });
    const { url, close } = await serve(handler);
    try {
      for (let i = 0; i < 2; i++) {
        // One value of an array parameter arrives as an array (the cached input shape, on every call).
        expect(await (await fetch(`${url}/tags/a1?tag=x`)).json()).toEqual({ id: "a1", tag: ["x"] });
      }
      expect(await (await fetch(`${url}/tags/a1?tag=x&tag=y`)).json()).toEqual({ id: "a1", tag: ["x", "y"] });
      const ping = await fetch(`${url}/ping`, { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" });
      expect(await ping.json()).toEqual({ pong: true });
      expect(seen).toEqual([
        { path: "lists.tags", type: "query", caller: "rest" },
        { path: "lists.tags", type: "query", caller: "rest" },
        { path: "lists.tags", type: "query", caller: "rest" },
        { path: "ping", type: "mutation", caller: "rest" },
      ]);
    } finally {
      await close();
    }
  });
});
