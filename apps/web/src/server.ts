import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import {
  type ApiDeps,
  REST_PREFIX,
  TRPC_PREFIX,
  buildOpenApiDocument,
  createRestHandler,
  createTrpcHandler,
  sendRestError,
} from "@approvalmatrix/api";
import { newId } from "@approvalmatrix/core";
import { sendDocsBundle, sendDocsPage } from "./docs-page";

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export interface AppServerOptions {
  /** Handles everything that is not the API (the admin app); a plain page when absent. */
  webHandler?: RequestHandler;
}

/**
 * The one Node process: /v1 (REST), /trpc, the OpenAPI document and docs page, and the admin
 * app. The API paths are matched first and touch nothing the admin app needs.
 */
export function createAppServer(deps: ApiDeps, options: AppServerOptions = {}): Server {
  const rest = createRestHandler(deps);
  const trpc = createTrpcHandler(deps);
  const openApiJson = JSON.stringify(buildOpenApiDocument({ baseUrl: REST_PREFIX }));

  const route: RequestHandler = async (req, res) => {
    const path = (req.url ?? "/").split("?")[0]!;
    if (path === `${REST_PREFIX}/openapi.json`) {
      res.writeHead(200, { "Content-Type": "application/json", "Access-Control-Allow-Origin": "*" });
      return void res.end(openApiJson);
    }
    if (path === REST_PREFIX || path.startsWith(`${REST_PREFIX}/`)) return rest(req, res);
    if (path.startsWith(`${TRPC_PREFIX}/`)) return trpc(req, res);
    if (path === "/docs" || path === "/docs/") return sendDocsPage(res);
    if (path === "/docs/scalar.js") return sendDocsBundle(res);
    if (path === "/healthz") {
      res.writeHead(200, { "Content-Type": "application/json" });
      return void res.end('{"ok":true}');
    }
    if (options.webHandler) return options.webHandler(req, res);
    res.writeHead(path === "/" ? 200 : 404, { "Content-Type": "text/html; charset=utf-8" });
    res.end(
      `<!doctype html><title>ApprovalMatrix</title><h1>ApprovalMatrix</h1><p>API reference: <a href="/docs">/docs</a> · OpenAPI: <a href="/v1/openapi.json">/v1/openapi.json</a></p>`,
    );
  };

  return createServer((req, res) => {
    Promise.resolve(route(req, res)).catch((error: unknown) => {
      const requestId = newId("httpRequest");
      console.error(`[${requestId}] unhandled error on ${req.method} ${req.url?.split("?")[0]}`, error);
      if (!res.headersSent)
        sendRestError(res, "internal_error", "An unexpected error occurred. Quote the requestId when you contact support.", requestId);
      else res.end();
    });
  });
}

export function listen(server: Server, port: number, host: string): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      const address = server.address() as AddressInfo;
      const shownHost = host === "0.0.0.0" || host === "::" ? "localhost" : host;
      resolve(`http://${shownHost}:${address.port}`);
    });
  });
}
