import type { IncomingMessage, ServerResponse } from "node:http";
import { API_ERRORS, type ApiErrorCode, type ErrorIssue, newId } from "@approvalmatrix/core";
import { TRPCError } from "@trpc/server";
import { createOpenApiNodeHttpHandler } from "trpc-to-openapi";
import type { ApiContext, ApiDeps } from "../context";
import { describeError, logInternalError } from "../errors";
import { authenticateRequest } from "../procedures";
import { rateLimitHeaders } from "../rate-limit/rate-limiter";
import { appRouter } from "../root";
import type { ProcedureMeta } from "../trpc";
import { observationOf } from "./observation";
import { contextFromHttp } from "./request-context";

export const REST_PREFIX = "/v1";

type RequestWithBody = IncomingMessage & { body?: unknown; requestId?: string; apiContext?: ApiContext };

/** The headers a call's context collected: timing, replay flag and its rate-limit state. */
function responseHeaders(ctx: ApiContext | undefined): Record<string, string> {
  if (!ctx) return {};
  return { ...ctx.response.headers, ...(ctx.response.rateLimit ? rateLimitHeaders(ctx.response.rateLimit) : {}) };
}

export function sendRestError(
  res: ServerResponse,
  code: ApiErrorCode,
  message: string,
  requestId: string,
  issues?: ErrorIssue[],
  headers: Record<string, string> = {},
): void {
  res.statusCode = API_ERRORS[code].status;
  res.setHeader("Content-Type", "application/json");
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.end(JSON.stringify({ error: { code, message, requestId, ...(issues ? { issues } : {}) } }));
}

interface Route {
  method: string;
  pattern: RegExp;
  meta: ProcedureMeta;
}

/** The first segment of a path ("requests" for /requests/r_1), which groups the routes to try. */
const firstSegment = (path: string) => path.split("/", 2)[1] ?? "";

/**
 * The /v1 routes, from the procedures' meta.openapi: to tell 404 from 405 and to read each one's
 * meta. Grouped by first segment, so a request tests a handful of patterns, not all of them.
 */
function restRoutes(): { routesAt: (path: string) => Route[]; metaByPath: Map<string, ProcedureMeta> } {
  const routes: Route[] = [];
  const metaByPath = new Map<string, ProcedureMeta>();
  for (const [path, procedure] of Object.entries(appRouter._def.procedures) as unknown as [string, { _def: { meta?: ProcedureMeta } }][]) {
    const meta = procedure._def.meta;
    if (!meta?.openapi) continue;
    metaByPath.set(path, meta);
    const source = meta.openapi.path
      .replace(/\/+$/, "")
      .split("/")
      .map((segment) => (/^\{\w+\}$/.test(segment) ? "[^/]+" : segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
      .join("/");
    routes.push({ method: meta.openapi.method, pattern: new RegExp(`^${source}/?$`), meta });
  }
  // A route whose first segment is a parameter (none today) is tried on every path.
  const anySegment = routes.filter((route) => firstSegment(route.meta.openapi?.path ?? "").startsWith("{"));
  const bySegment = new Map<string, Route[]>();
  for (const route of routes) {
    const segment = firstSegment(route.meta.openapi?.path ?? "");
    if (!segment.startsWith("{")) bySegment.set(segment, [...(bySegment.get(segment) ?? anySegment), route]);
  }
  return {
    routesAt: (path) => (bySegment.get(firstSegment(path)) ?? anySegment).filter((route) => route.pattern.test(path)),
    metaByPath,
  };
}

interface TrpcErrorBody {
  message?: string;
  data?: { apiCode?: ApiErrorCode; issues?: { field: string; message: string }[] };
}

/** The bridge writes tRPC's error shape; /v1 answers with its own documented one instead. */
function toRestErrorBody(raw: string, requestId: string): string {
  let parsed: TrpcErrorBody = {};
  try {
    parsed = JSON.parse(raw) as TrpcErrorBody;
  } catch {
    // Not JSON: keep the defaults below.
  }
  const code = parsed.data?.apiCode ?? "internal_error";
  const issues = parsed.data?.issues;
  const message =
    code === "invalid_request" && issues?.length
      ? `Invalid request. ${issues.map((i) => `${i.field}: ${i.message}`).join("; ")}`
      : (parsed.message ?? "An unexpected error occurred.");
  return JSON.stringify({ error: { code, message, requestId, ...(issues?.length ? { issues } : {}) } });
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** Reads a JSON body up to `limit` bytes. Resolves undefined when the body is empty. */
function readJsonBody(
  req: IncomingMessage,
  limit: number,
): Promise<{ ok: true; value: unknown } | { ok: false; code: "payload_too_large" | "invalid_json" }> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"] ?? 0);
    if (declared > limit) {
      req.resume();
      resolve({ ok: false, code: "payload_too_large" });
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on("data", (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > limit) {
        done = true;
        resolve({ ok: false, code: "payload_too_large" });
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => {
      if (done) return;
      done = true;
      let text: string;
      try {
        // JSON on the wire is UTF-8 (RFC 8259): invalid bytes are refused, not turned into U+FFFD.
        text = strictUtf8.decode(Buffer.concat(chunks));
      } catch {
        return resolve({ ok: false, code: "invalid_json" });
      }
      if (text.trim() === "") return resolve({ ok: true, value: undefined });
      try {
        resolve({ ok: true, value: JSON.parse(text) });
      } catch {
        resolve({ ok: false, code: "invalid_json" });
      }
    });
    req.on("error", reject);
  });
}

/**
 * /v1: trpc-to-openapi turns the procedures that carry meta.openapi into REST endpoints. Around
 * it, in this order: the Request-Id; authentication and the rate limit (before the body is read,
 * so a malformed, oversized or mistyped body is still refused only to a known key, and counted);
 * 404 for an unknown path and 405 for a wrong method; the body limit (413) and JSON parsing that
 * tolerates a charset parameter and refuses invalid UTF-8; then the bridge, with our error object,
 * each procedure's success status (meta.successStatus) and the rate-limit headers on every answer.
 * NUL characters, lone surrogates and runaway nesting are refused by every procedure's boundary
 * (trpc.ts), whichever transport called it.
 */
export function createRestHandler(deps: ApiDeps) {
  const { routesAt, metaByPath } = restRoutes();
  const bridge = createOpenApiNodeHttpHandler({
    router: appRouter,
    createContext: ({ req }: { req: RequestWithBody }) =>
      req.apiContext ?? contextFromHttp(req, deps, req.requestId ?? newId("httpRequest")),
    responseMeta: ({ ctx, errors, paths }: { ctx?: ApiContext; errors: unknown[]; paths?: string[] }) => ({
      status: errors.length === 0 ? (ctx?.response.status ?? metaByPath.get(paths?.[0] ?? "")?.successStatus) : undefined,
      headers: responseHeaders(ctx),
    }),
    onError: ({ error, req }: { error: TRPCError; req: RequestWithBody }) => {
      if (describeError(error).code === "internal_error") logInternalError(req.requestId ?? "-", error, deps.logger);
    },
    maxBodySize: deps.maxBodyBytes,
  } as Parameters<typeof createOpenApiNodeHttpHandler>[0]);

  async function handle(req: RequestWithBody, res: ServerResponse, requestId: string): Promise<void> {
    req.url = (req.url ?? "/").slice(REST_PREFIX.length) || "/";
    const ctx = contextFromHttp(req, deps, requestId);
    req.apiContext = ctx;
    const refuse = (code: ApiErrorCode, message: string, issues?: ErrorIssue[], headers: Record<string, string> = {}) =>
      sendRestError(res, code, message, requestId, issues, { ...responseHeaders(ctx), ...headers });

    // The path as sent (the bridge parses the URL again for its inputs): no URL object needed here.
    const queryAt = req.url.indexOf("?");
    const path = queryAt === -1 ? req.url : req.url.slice(0, queryAt);
    const method = req.method ?? "GET";
    const onPath = routesAt(path);
    const route = onPath.find((r) => r.method === method);
    if (ctx.observed) ctx.observed.route = route ? `${REST_PREFIX}${route.meta.openapi?.path ?? ""}` : `${REST_PREFIX}/(unmatched)`;

    if (route?.meta.openapi?.protect !== false) {
      try {
        ctx.authenticated = await authenticateRequest(ctx, route?.meta.rateLimit ?? (method === "GET" ? "status" : "write"));
      } catch (error) {
        if (!(error instanceof TRPCError)) throw error;
        const described = describeError(error);
        return refuse(described.code, described.message, described.issues);
      }
    }
    if (!route) {
      if (onPath.length === 0) return refuse("not_found", "No such endpoint. See /v1/openapi.json for the API.");
      const allow = [...new Set(onPath.map((r) => r.method))].join(", ");
      return refuse("method_not_allowed", `${path} does not take ${method}; it takes ${allow}.`, undefined, { Allow: allow });
    }

    const contentType = (req.headers["content-type"] ?? "").toLowerCase();
    // The bridge's own check, made here so that the answer carries the call's headers.
    const takesBody = method !== "GET" && method !== "DELETE";
    if (takesBody && !contentType.startsWith("application/json")) {
      return refuse("unsupported_media_type", "The body must be sent as JSON: Content-Type: application/json.");
    }
    if (takesBody) {
      const body = await readJsonBody(req, deps.maxBodyBytes);
      if (!body.ok) {
        return refuse(
          body.code,
          body.code === "payload_too_large" ? `The body exceeds ${deps.maxBodyBytes} bytes.` : "The request body is not valid UTF-8 JSON.",
        );
      }
      // The bridge only parses bodies whose type is exactly application/json; hand it ours.
      req.body = body.value ?? {};
    }

    const end = res.end.bind(res) as (chunk?: unknown, ...rest: unknown[]) => ServerResponse;
    res.end = ((chunk?: unknown, ...rest: unknown[]) =>
      end(
        res.statusCode >= 400 && typeof chunk === "string" ? toRestErrorBody(chunk, requestId) : chunk,
        ...rest,
      )) as ServerResponse["end"];
    await bridge(req, res);
  }

  return async function handleRest(req: RequestWithBody, res: ServerResponse): Promise<void> {
    const requestId = observationOf(req)?.requestId ?? newId("httpRequest");
    req.requestId = requestId;
    res.setHeader("Request-Id", requestId);
    try {
      await handle(req, res, requestId);
    } catch (error) {
      // The client went away while its body was being read (or a shutdown cut it): nothing to answer, nothing broken.
      if (req.destroyed && error instanceof Error && (error.message === "aborted" || (error as { code?: string }).code === "ECONNRESET"))
        return void res.destroy();
      logInternalError(requestId, error, deps.logger);
      if (!res.headersSent) sendRestError(res, "internal_error", API_ERRORS.internal_error.description, requestId);
      else res.destroy();
    }
  };
}
