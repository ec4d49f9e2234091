import type { IncomingMessage, ServerResponse } from "node:http";
import { API_ERRORS, type ApiErrorCode, type ErrorIssue, newId } from "@approvalmatrix/core";
import { createOpenApiNodeHttpHandler } from "trpc-to-openapi";
import type { ApiContext, ApiDeps } from "../context";
import { appRouter } from "../root";
import { contextFromHttp } from "./request-context";

export const REST_PREFIX = "/v1";

type RequestWithBody = IncomingMessage & { body?: unknown; requestId?: string };

export function sendRestError(res: ServerResponse, code: ApiErrorCode, message: string, requestId: string, issues?: ErrorIssue[]): void {
  res.statusCode = API_ERRORS[code].status;
  res.setHeader("Content-Type", "application/json");
  res.end(JSON.stringify({ error: { code, message, requestId, ...(issues ? { issues } : {}) } }));
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
      const text = Buffer.concat(chunks).toString("utf8");
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
 * it: the Request-Id, the body limit (413), JSON parsing that tolerates a charset parameter,
 * our error object, 201 on create and the rate-limit headers. NUL characters and runaway nesting
 * are refused by every procedure's boundary (trpc.ts), whichever transport called it.
 */
export function createRestHandler(deps: ApiDeps) {
  const bridge = createOpenApiNodeHttpHandler({
    router: appRouter,
    createContext: ({ req }: { req: RequestWithBody }) => contextFromHttp(req, deps, req.requestId ?? newId("httpRequest")),
    responseMeta: ({ ctx, errors }: { ctx?: ApiContext; errors: unknown[] }) => ({
      status: errors.length === 0 ? ctx?.response.status : undefined,
      headers: ctx?.response.headers ?? {},
    }),
    maxBodySize: deps.maxBodyBytes,
  } as Parameters<typeof createOpenApiNodeHttpHandler>[0]);

  return async function handleRest(req: RequestWithBody, res: ServerResponse): Promise<void> {
    const requestId = newId("httpRequest");
    req.requestId = requestId;
    res.setHeader("Request-Id", requestId);
    req.url = (req.url ?? "/").slice(REST_PREFIX.length) || "/";

    const contentType = req.headers["content-type"] ?? "";
    if (req.method !== "GET" && req.method !== "HEAD" && contentType.toLowerCase().startsWith("application/json")) {
      const body = await readJsonBody(req, deps.maxBodyBytes);
      if (!body.ok) {
        const message =
          body.code === "payload_too_large" ? `The body exceeds ${deps.maxBodyBytes} bytes.` : "The request body is not valid JSON.";
        return sendRestError(res, body.code, message, requestId);
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
  };
}
