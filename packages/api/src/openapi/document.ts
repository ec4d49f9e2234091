import { API_ERRORS, type ApiErrorCode } from "@approvalmatrix/core";
import { type OpenAPIObject, generateOpenApiDocument } from "trpc-to-openapi";
import { appRouter } from "../root";
import type { ProcedureMeta } from "../trpc";
import { EXAMPLES } from "./examples";
import { webhooksSection } from "./webhooks";

type Json = Record<string, unknown>;

const ERROR_SCHEMA = {
  type: "object",
  required: ["error"],
  additionalProperties: false,
  properties: {
    error: {
      type: "object",
      required: ["code", "message", "requestId"],
      properties: {
        code: { type: "string", enum: Object.keys(API_ERRORS), description: "Stable machine code: branch on this." },
        message: { type: "string", description: "What went wrong, for people. May change." },
        requestId: { type: "string", description: "Id of this HTTP call (also in the Request-Id header). Quote it to support." },
        issues: {
          type: "array",
          description: "With invalid_request: one entry per offending field.",
          items: {
            type: "object",
            required: ["field", "message"],
            properties: { field: { type: "string", example: "amount" }, message: { type: "string" } },
          },
        },
      },
    },
  },
  example: {
    error: {
      code: "no_matching_matrix",
      message:
        'No approval matrix matched requestType "purchase_order": "Engineering PO Matrix" (amount 50000 is not below its maximum 10000).',
      requestId: "rid_5Jq2mK8Lr3Xn9Tb0Wc4V",
    },
  },
};

const HEADER = (description: string, type = "string", required = false) => ({
  description,
  ...(required ? { required } : {}),
  schema: { type },
});
/**
 * On errors only the Request-Id is certain: a refusal before any budget was counted (an invalid
 * body of an open endpoint) has no rate-limit state to report.
 */
const RATE_LIMIT_HEADERS = {
  "Request-Id": HEADER("Id of this HTTP call.", "string", true),
  "X-RateLimit-Limit": HEADER("Requests allowed per minute for this key.", "integer"),
  "X-RateLimit-Remaining": HEADER("Requests left in the current window.", "integer"),
  "X-RateLimit-Reset": HEADER("Unix time (seconds) at which the window resets.", "integer"),
};
/** Every success has been counted against a budget (the key's, the address's or the bootstrap's): all four are sent. */
const SUCCESS_HEADERS = Object.fromEntries(
  Object.entries(RATE_LIMIT_HEADERS).map(([name, header]) => [name, { ...header, required: true }]),
) as typeof RATE_LIMIT_HEADERS;

/** Codes every key-protected endpoint can answer with, by whether it takes a JSON body. */
function commonCodes(method: string, hasInput: boolean, open = false): ApiErrorCode[] {
  // Open endpoints answer 401/403 only to a caller that sends a (bad or unscoped) key.
  const codes: ApiErrorCode[] = ["unauthorized", "forbidden", "rate_limited", "internal_error"];
  if (hasInput) codes.push("invalid_request");
  if (method === "post") codes.push("invalid_json", "payload_too_large", "unsupported_media_type");
  if (method === "post" && !open) codes.push("idempotency_conflict");
  return codes;
}

/** Every POST takes an Idempotency-Key (services/idempotency.ts). */
const IDEMPOTENCY_KEY_PARAMETER = {
  name: "Idempotency-Key",
  in: "header",
  required: false,
  description:
    "Makes a retry safe: a repeat of this POST with the same key and the same body, within 24 hours, does not run again but answers with the first response (status and body, with `Idempotent-Replayed: true`). The same key with a different body answers 409 `idempotency_conflict`. A duplicate sent while the first is still running waits for it, then replays its response. Only successful responses are stored: after an error the key is free and a retry runs again. 1 to 255 visible ASCII characters; a UUID per operation is ideal.",
  schema: { type: "string", minLength: 1, maxLength: 255 },
  example: "3f0c1a52-8d7e-4c1b-9f7e-2a9b6c0d4e11",
};
const REPLAYED_HEADER = {
  "Idempotent-Replayed": HEADER("`true` when this response is the replay of an earlier call with the same Idempotency-Key.", "boolean"),
};

function metaByOperation(): Map<string, ProcedureMeta> {
  const map = new Map<string, ProcedureMeta>();
  for (const procedure of Object.values(appRouter._def.procedures) as unknown as { _def: { meta?: ProcedureMeta } }[]) {
    const meta = procedure._def.meta;
    if (meta?.openapi) map.set(`${meta.openapi.method.toLowerCase()} ${meta.openapi.path}`, meta);
  }
  return map;
}

/**
 * The OpenAPI 3 document of /v1: generated from the routers, then completed with what the
 * generator cannot know: our error object, 201 on create, rate-limit headers and the examples.
 */
export function buildOpenApiDocument(opts: { baseUrl: string; version?: string }): OpenAPIObject {
  const doc = generateOpenApiDocument(appRouter, {
    title: "ApprovalMatrix REST API",
    version: opts.version ?? "1.0.0",
    baseUrl: opts.baseUrl,
    description: [
      "Route approvals through your organization's approval matrices from any system.",
      "**Authentication.** Send your key in every request as `Authorization: Bearer apx_live_…`. Keys in the query string are refused.",
      "**Rate limits.** 60 requests per minute per key unless configured otherwise; every response, errors included, carries `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset`, and a refusal is `429` with `Retry-After`. Calls that fail authentication are counted per client address (100 a minute), and their `401` carries that budget.",
      "**Order of checks.** Authentication and the rate limit come first, before the body is read; then the path and method, the body (`413`, `415`, `invalid_json`), the key's scope, and validation.",
      "**Webhooks and events.** Every change of a request, member or API key is an event: POSTed to your webhook endpoints (`/webhook-endpoints`), signed per [Standard Webhooks](https://www.standardwebhooks.com) and retried for about three days, and readable from `GET /events` for 30 days. The `webhooks` section lists each event type with its payload.",
      '**Errors.** Every error is `{ "error": { "code", "message", "requestId", "issues"? } }`; branch on `code`. A path called with a method it does not take answers `405` `method_not_allowed` with an `Allow` header listing the methods it takes.',
    ].join("\n\n"),
    securitySchemes: {
      bearerAuth: { type: "http", scheme: "bearer", bearerFormat: "apx_live_ + 32 characters", description: "An API key of your tenant." },
    },
  });
  // The generator cannot state the terms; readers of the document (and Redocly's rules) need them.
  // A custom SPDX reference (LicenseRef-…): the API is not open source.
  doc.info.license = { name: "Proprietary: use is governed by your ApprovalMatrix agreement", identifier: "LicenseRef-ApprovalMatrix" };
  const components = (doc.components ??= {}) as Json;
  // The bridge adds an `error.<CODE>` schema per tRPC code; every response here uses our Error instead.
  const generated = Object.entries((components.schemas as Json | undefined) ?? {}).filter(([name]) => !name.startsWith("error."));
  const { webhooks, schemas: eventSchemas } = webhooksSection();
  components.schemas = { ...Object.fromEntries(generated), Error: ERROR_SCHEMA, ...eventSchemas };
  // OpenAPI 3.1: the messages we send (one per event type), beside the paths we serve.
  Object.assign(doc, { webhooks });

  const metas = metaByOperation();
  for (const [path, item] of Object.entries(doc.paths ?? {}) as [string, Json][]) {
    for (const [method, operation] of Object.entries(item) as [string, Json][]) {
      const meta = metas.get(`${method} ${path}`);
      if (!meta?.openapi) continue;
      // Public endpoints (agent bootstrap) say so: no security at all, rather than none stated.
      if (meta.openapi.protect === false) operation.security = [];
      const responses = operation.responses as Json;
      const hasInput = Boolean(operation.requestBody) || Boolean((operation.parameters as unknown[] | undefined)?.length);
      for (const status of Object.keys(responses)) if (status !== "200") delete responses[status];

      const success = responses["200"] as Json;
      success.headers = method === "post" && meta.openapi.protect !== false ? { ...SUCCESS_HEADERS, ...REPLAYED_HEADER } : SUCCESS_HEADERS;
      const open = meta.openapi.protect === false;
      // No key needed; a key with the endpoint's scope is accepted too (procedures.ts openProcedure).
      if (open) operation.security = [{}, { bearerAuth: [] }];
      if (method === "post" && !open)
        operation.parameters = [...((operation.parameters as unknown[] | undefined) ?? []), IDEMPOTENCY_KEY_PARAMETER];
      const example = EXAMPLES[`${method.toUpperCase()} ${path}`];
      const successContent = (success.content as Json | undefined)?.["application/json"] as Json | undefined;
      if (example && successContent) successContent.example = example.response;
      if (example?.request) {
        const body = ((operation.requestBody as Json | undefined)?.content as Json | undefined)?.["application/json"] as Json | undefined;
        if (body) body.example = example.request;
      }
      if (meta.successStatus && meta.successStatus !== 200) {
        responses[String(meta.successStatus)] = success;
        delete responses["200"];
      }

      const codes = [...commonCodes(method, hasInput, open), ...(meta.errorCodes ?? [])];
      const byStatus = new Map<number, ApiErrorCode[]>();
      for (const code of codes) byStatus.set(API_ERRORS[code].status, [...(byStatus.get(API_ERRORS[code].status) ?? []), code]);
      for (const [status, list] of [...byStatus].sort(([a], [b]) => a - b)) {
        responses[String(status)] = {
          description: list.map((code) => `\`${code}\`: ${API_ERRORS[code].description}`).join("\n\n"),
          // Authentication and the rate limit run first: every answer carries the budget.
          headers:
            status === 429
              ? { ...RATE_LIMIT_HEADERS, "Retry-After": HEADER("Seconds to wait before retrying.", "integer") }
              : RATE_LIMIT_HEADERS,
          content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
        };
      }
    }
  }
  return doc;
}
