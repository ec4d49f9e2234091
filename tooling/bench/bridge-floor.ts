// The fixed cost of the REST bridge itself: one trivial GET procedure (one middleware, zod input
// and output) served through trpc-to-openapi, against a plain node:http handler answering the same
// JSON. No database, no auth: what is left is what tRPC + trpc-to-openapi + zod add to every call.
// autocannon runs in this process too, so its CPU is in both figures; the difference is the bridge.
//
//   pnpm bench:floor        (BENCH_SECONDS per run, default 5)
import { type IncomingMessage, type ServerResponse, createServer } from "node:http";
import { initTRPC } from "@trpc/server";
import autocannon from "autocannon";
import { type OpenApiMeta, createOpenApiNodeHttpHandler } from "trpc-to-openapi";
import { z } from "zod";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);

const t = initTRPC.meta<OpenApiMeta>().create();
const router = t.router({
  get: t.procedure
    .use(({ next }) => next())
    .meta({ openapi: { method: "GET", path: "/requests/{requestId}" } })
    .input(z.object({ requestId: z.string() }))
    .output(z.object({ requestId: z.string(), status: z.string() }))
    .query(({ input }) => ({ requestId: input.requestId, status: "pending" })),
});
const bridge = createOpenApiNodeHttpHandler({ router, createContext: () => ({}) });

const handlers: Record<string, (req: IncomingMessage, res: ServerResponse) => void> = {
  plain(req, res) {
    const requestId = (req.url ?? "").slice("/v1/requests/".length);
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end(JSON.stringify({ requestId, status: "pending" }));
  },
  bridge(req, res) {
    req.url = (req.url ?? "").slice("/v1".length);
    void bridge(req, res);
  },
};

async function measure(name: string) {
  const server = createServer(handlers[name]);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  const run = () => autocannon({ url: `http://127.0.0.1:${port}/v1/requests/req_abc`, connections: 10, duration: SECONDS });
  await run(); // warm-up
  const before = process.cpuUsage();
  const result = await run();
  const used = process.cpuUsage(before);
  server.close();
  return { rps: result.requests.average, cpuUs: (used.user + used.system) / result.requests.total };
}

const plain = await measure("plain");
const bridged = await measure("bridge");
console.log(`
| handler | req/s | CPU µs/req (server + load generator) |
|---|---:|---:|
| plain node:http | ${plain.rps.toFixed(0)} | ${plain.cpuUs.toFixed(1)} |
| tRPC + trpc-to-openapi | ${bridged.rps.toFixed(0)} | ${bridged.cpuUs.toFixed(1)} |

The bridge's own cost: ${(bridged.cpuUs - plain.cpuUs).toFixed(1)} µs of CPU per call.`);
