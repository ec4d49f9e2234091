/**
 * /scim/v2: the SCIM 2.0 service provider (RFC 7644) for identity providers. Not a tRPC or
 * OpenAPI surface: its wire format (application/scim+json, ListResponse, the SCIM error object
 * with scimType) is fixed by the RFC, so this is a thin adapter over plain services.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import {
  SCIM_CONTENT_TYPE,
  SCIM_ERROR_SCHEMA,
  ScimError,
  listResponse,
  newId,
  parseBearer,
  resourceTypes,
  scimPaging,
  scimSchemas,
  serviceProviderConfig,
} from "@approvalmatrix/core";
import type { ApiDeps } from "../context";
import { logInternalError } from "../errors";
import { findScimToken } from "../services/directory/scim-tokens";
import { createScimGroup, deleteScimGroup, getScimGroup, listScimGroups, patchScimGroup, replaceScimGroup } from "../services/scim/groups";
import {
  type ScimActor,
  type ScimCall,
  createScimUser,
  deleteScimUser,
  getScimUser,
  listScimUsers,
  patchScimUser,
  replaceScimUser,
} from "../services/scim/users";

export const SCIM_PREFIX = "/scim/v2";
/** Failed authentications per client address per minute, as on /v1. */
const AUTH_FAILURES_PER_MINUTE = 100;
const DOCUMENTATION_URI = "https://github.com/approvalmatrix/approvalmatrix#directory-sync-scim-20";

function send(res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}): void {
  res.statusCode = status;
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  if (body === undefined) return void res.end();
  res.setHeader("Content-Type", `${SCIM_CONTENT_TYPE}; charset=utf-8`);
  res.end(JSON.stringify(body));
}

function sendError(res: ServerResponse, error: ScimError, headers: Record<string, string> = {}): void {
  send(
    res,
    error.status,
    {
      schemas: [SCIM_ERROR_SCHEMA],
      status: String(error.status),
      ...(error.scimType ? { scimType: error.scimType } : {}),
      detail: error.message,
    },
    headers,
  );
}

async function readBody(req: IncomingMessage, limit: number): Promise<Record<string, unknown>> {
  const type = (req.headers["content-type"] ?? "").toLowerCase();
  if (!type.startsWith(SCIM_CONTENT_TYPE) && !type.startsWith("application/json"))
    throw new ScimError(415, `Send the body as ${SCIM_CONTENT_TYPE} (or application/json).`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new ScimError(413, `The body exceeds ${limit} bytes.`);
    chunks.push(chunk);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(Buffer.concat(chunks)));
  } catch {
    throw new ScimError(400, "The body is not valid UTF-8 JSON.", "invalidSyntax");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    throw new ScimError(400, "The body must be a JSON object.", "invalidSyntax");
  return parsed as Record<string, unknown>;
}

function baseUrlOf(req: IncomingMessage): string {
  const forwarded = String(req.headers["x-forwarded-proto"] ?? "")
    .split(",")[0]
    ?.trim();
  const proto = forwarded === "https" || forwarded === "http" ? forwarded : "encrypted" in req.socket ? "https" : "http";
  return `${proto}://${req.headers.host ?? "localhost"}${SCIM_PREFIX}`;
}

const methodNotAllowed = (res: ServerResponse, allow: string) =>
  sendError(res, new ScimError(405, `This endpoint takes ${allow}.`), { Allow: allow });

export function createScimHandler(deps: ApiDeps) {
  async function authenticate(req: IncomingMessage): Promise<ScimActor> {
    const presented = parseBearer(req.headers.authorization);
    const token = presented ? await findScimToken(deps.db, deps.apiKeyHashSecret, presented) : null;
    if (token) return { kind: "scim", tenantId: token.tenantId, tokenId: token.id, provider: token.provider };
    const outcome = await deps.rateLimiter.consume(`unauth:${req.socket.remoteAddress ?? "unknown"}`, AUTH_FAILURES_PER_MINUTE);
    if (!outcome.allowed) throw new ScimError(429, `Too many failed authentications; retry in ${outcome.retryAfter} s.`);
    throw new ScimError(401, presented ? "Unknown or revoked SCIM token." : "Send the tenant's SCIM token: Authorization: Bearer scim_…");
  }

  async function route(req: IncomingMessage, res: ServerResponse, call: ScimCall, path: string, query: URLSearchParams) {
    const method = req.method ?? "GET";
    const segments = path.split("/").filter(Boolean).map(decodeURIComponent);
    const [collection, id, extra] = segments;
    const base = call.baseUrl;
    const paging = () => scimPaging(query.get("startIndex"), query.get("count"));
    const excludeMembers = /(^|,)\s*members\s*(,|$)/i.test(query.get("excludedAttributes") ?? "");
    if (extra !== undefined) throw new ScimError(404, "No such SCIM endpoint.");

    switch (collection?.toLowerCase()) {
      case "serviceproviderconfig":
        if (method !== "GET") return methodNotAllowed(res, "GET");
        return send(res, 200, serviceProviderConfig(base, DOCUMENTATION_URI));
      case "resourcetypes": {
        if (method !== "GET") return methodNotAllowed(res, "GET");
        const types = resourceTypes(base);
        if (!id) return send(res, 200, listResponse(types, types.length, 1));
        const one = types.find((t) => t.id.toLowerCase() === id.toLowerCase());
        if (!one) throw new ScimError(404, `No resource type ${id}.`);
        return send(res, 200, one);
      }
      case "schemas": {
        if (method !== "GET") return methodNotAllowed(res, "GET");
        const schemas = scimSchemas(base);
        if (!id) return send(res, 200, listResponse(schemas, schemas.length, 1));
        const one = schemas.find((s) => s.id.toLowerCase() === id.toLowerCase());
        if (!one) throw new ScimError(404, `No schema ${id}.`);
        return send(res, 200, one);
      }
      case "users":
        if (!id) {
          if (method === "GET") return send(res, 200, await listScimUsers(call, { filter: query.get("filter"), ...paging() }));
          if (method === "POST") {
            const created = await createScimUser(call, await readBody(req, deps.maxBodyBytes));
            return send(res, 201, created, { Location: `${base}/Users/${String(created.id)}` });
          }
          return methodNotAllowed(res, "GET, POST");
        }
        if (method === "GET") return send(res, 200, await getScimUser(call, id));
        if (method === "PUT") return send(res, 200, await replaceScimUser(call, id, await readBody(req, deps.maxBodyBytes)));
        if (method === "PATCH") return send(res, 200, await patchScimUser(call, id, await readBody(req, deps.maxBodyBytes)));
        if (method === "DELETE") {
          await deleteScimUser(call, id);
          return send(res, 204);
        }
        return methodNotAllowed(res, "GET, PUT, PATCH, DELETE");
      case "groups":
        if (!id) {
          if (method === "GET")
            return send(res, 200, await listScimGroups(call, { filter: query.get("filter"), ...paging(), excludeMembers }));
          if (method === "POST") {
            const created = await createScimGroup(call, await readBody(req, deps.maxBodyBytes));
            return send(res, 201, created, { Location: `${base}/Groups/${created.id}` });
          }
          return methodNotAllowed(res, "GET, POST");
        }
        if (method === "GET") return send(res, 200, await getScimGroup(call, id, excludeMembers));
        if (method === "PUT") return send(res, 200, await replaceScimGroup(call, id, await readBody(req, deps.maxBodyBytes)));
        if (method === "PATCH") return send(res, 200, await patchScimGroup(call, id, await readBody(req, deps.maxBodyBytes)));
        if (method === "DELETE") {
          await deleteScimGroup(call, id);
          return send(res, 204);
        }
        return methodNotAllowed(res, "GET, PUT, PATCH, DELETE");
      case "bulk":
      case "me":
        throw new ScimError(501, `/${collection} is not supported by this service provider.`);
      default:
        throw new ScimError(
          404,
          "No such SCIM endpoint. Resources: /Users, /Groups; discovery: /ServiceProviderConfig, /ResourceTypes, /Schemas.",
        );
    }
  }

  return async function handleScim(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = newId("httpRequest");
    res.setHeader("Request-Id", requestId);
    res.setHeader("Cache-Control", "no-store");
    try {
      const url = new URL(req.url ?? "/", "http://localhost");
      const actor = await authenticate(req);
      const call: ScimCall = { db: deps.db, actor, baseUrl: baseUrlOf(req), now: deps.clock.now() };
      await route(req, res, call, url.pathname.slice(SCIM_PREFIX.length), url.searchParams);
    } catch (error) {
      if (error instanceof ScimError)
        return sendError(res, error, error.status === 401 ? { "WWW-Authenticate": 'Bearer realm="scim"' } : {});
      logInternalError(requestId, error);
      if (!res.headersSent) sendError(res, new ScimError(500, `An unexpected error occurred (request ${requestId}).`));
      else res.destroy();
    }
  };
}
