import { createReadStream } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { ServerResponse } from "node:http";
import { DOCS_HEADERS, SECURITY_HEADERS } from "./web/security-headers";

// Served from the installed package (no CDN; the hosted AI/telemetry extras are switched off): the docs page works offline and pins the renderer's version.
const scalarBundle = join(dirname(createRequire(import.meta.url).resolve("@scalar/api-reference")), "browser", "standalone.js");

export const DOCS_HTML = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>ApprovalMatrix API reference</title>
    <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
  </head>
  <body>
    <aside style="font: 14px/1.5 system-ui, sans-serif; padding: 8px 16px; border-bottom: 1px solid #ddd">
      Client libraries: TypeScript apps can install <code>@approvalmatrix/client</code> (typed calls over tRPC with an API key) or
      generate types from this document with <code>npx openapi-typescript https://&lt;this host&gt;/v1/openapi.json -o api.d.ts</code>.
      For Python, Java, Go and other languages, <code>openapi-generator</code> builds a client from the same
      <a href="/v1/openapi.json">/v1/openapi.json</a> (e.g. <code>-g python</code>, <code>-g java</code>, <code>-g go</code>).
    </aside>
    <script
      id="api-reference"
      data-url="/v1/openapi.json"
      data-configuration='{"agent":{"disabled":true},"mcp":{"disabled":true},"showDeveloperTools":"never","telemetry":false,"hideClientButton":false,"withDefaultFonts":false}'
    ></script>
    <script src="/docs/scalar.js"></script>
  </body>
</html>`;

export function sendDocsPage(res: ServerResponse): void {
  res.writeHead(200, { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-cache", ...DOCS_HEADERS });
  res.end(DOCS_HTML);
}

export function sendDocsBundle(res: ServerResponse): void {
  res.writeHead(200, {
    "Content-Type": "text/javascript; charset=utf-8",
    "Cache-Control": "public, max-age=86400",
    ...SECURITY_HEADERS,
  });
  createReadStream(scalarBundle).pipe(res);
}
