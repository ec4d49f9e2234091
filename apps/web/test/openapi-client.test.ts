// The README's recipe for a REST client in TypeScript: openapi-typescript turns the served
// /v1/openapi.json into types, and a small app that uses them typechecks under strict — with a
// misspelt field and an unknown error code as compile errors.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestApp, startTestApp } from "./harness";

const exec = promisify(execFile);
const OPENAPI_TYPESCRIPT = new URL("../node_modules/.bin/openapi-typescript", import.meta.url).pathname;

const USE_TS = `
import type { components, operations, paths } from "./api";

type CreateBody = operations["requests-create"]["requestBody"]["content"]["application/json"];
type Created = operations["requests-create"]["responses"][201]["content"]["application/json"];
type RequestView = paths["/requests/{requestId}"]["get"]["responses"][200]["content"]["application/json"];
type ApiError = components["schemas"]["Error"];

export const body: CreateBody = { submitterRef: "EMP-1042", requestType: "purchase_order", title: "Toner", amount: 45 };
// @ts-expect-error: a misspelt field name.
export const misspelt: CreateBody = { submitterRef: "EMP-1042", requestType: "purchase_order", titel: "Toner" };

export function describe(created: Created, view: RequestView, error: ApiError): string {
  const open: boolean = created.status === "pending" || view.status === "in_progress";
  const code: ApiError["error"]["code"] = error.error.code;
  // @ts-expect-error: not one of the API's error codes.
  if (code === "already_approved") return "never";
  return \`\${created.requestId} \${view.decisions.length} \${String(open)} \${code}\`;
}
`;

let app: TestApp;
let dir: string;
beforeAll(async () => {
  app = await startTestApp();
  dir = mkdtempSync(join(tmpdir(), "apx-openapi-client-"));
});
afterAll(async () => {
  await app.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("a REST client generated from /v1/openapi.json", () => {
  it("generates types with openapi-typescript that a strict app typechecks against", async () => {
    // As the README says: npx openapi-typescript https://approvals.example.com/v1/openapi.json -o api.d.ts
    await exec(OPENAPI_TYPESCRIPT, [`${app.url}/v1/openapi.json`, "-o", join(dir, "api.d.ts")]);
    expect(readFileSync(join(dir, "api.d.ts"), "utf8")).toContain('"/requests/{requestId}/decisions"');
    writeFileSync(join(dir, "use.ts"), USE_TS);

    const program = ts.createProgram([join(dir, "use.ts")], {
      strict: true,
      noUncheckedIndexedAccess: true,
      noEmit: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      types: [],
    });
    const problems = ts
      .getPreEmitDiagnostics(program)
      .map((d) => `${d.file?.fileName ?? ""}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`);
    // An unused @ts-expect-error is itself an error: both mistakes must still be caught.
    expect(problems).toEqual([]);
  });
});
