// The REST reference's own curl, JavaScript and Python examples, extracted from the document
// (a copy of shared/seeds/000_…) and run as written against a real server: only the host, the
// key and the example request id are replaced.
import { execFile, spawnSync } from "node:child_process";
import { promisify } from "node:util";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestApp, startTestApp } from "./harness";
import { must } from "@approvalmatrix/core";

// Asynchronous on purpose: the server under test runs in this very process.
const run = async (file: string, args: string[]) => (await promisify(execFile)(file, args, { encoding: "utf8" })).stdout;

const reference = readFileSync(new URL("./fixtures/rest-api-reference.txt", import.meta.url), "utf8");

function curlExamples(): string[] {
  const lines = reference.split("\n");
  const blocks: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!must(lines[i]).startsWith("curl ")) continue;
    const block = [must(lines[i])];
    while (
      must(block[block.length - 1])
        .trimEnd()
        .endsWith("\\")
    )
      block.push(must(lines[++i]));
    blocks.push(block.join("\n"));
  }
  return blocks;
}

const between = (start: RegExp, end: RegExp) =>
  [...reference.matchAll(new RegExp(`${start.source}[\\s\\S]*?${end.source}[^\\n]*`, "g"))].map((m) => m[0]);

const jsExamples = () => between(/const res = await fetch\(/, /\nconst (?:\{[^}]*\}|request) = await res\.json\(\);/);
const pythonExamples = () => between(/import requests\n/, /\ndata = resp\.json\(\)/);

function pythonWithRequests(): string | null {
  for (const candidate of ["python3", "/usr/bin/python3", "python"]) {
    const probe = spawnSync(candidate, ["-c", "import requests"], { stdio: "ignore" });
    if (probe.status === 0) return candidate;
  }
  return null;
}

let app: TestApp;
let requestId: string;
const localise = (code: string) =>
  code.replaceAll("https://api.yourapp.com", app.url).replaceAll("apx_live_YOUR_KEY", app.demoKey).replaceAll("req_abc123", requestId);

beforeAll(async () => {
  app = await startTestApp();
  const res = await fetch(`${app.url}/v1/requests`, {
    method: "POST",
    headers: { Authorization: `Bearer ${app.demoKey}`, "Content-Type": "application/json" },
    body: JSON.stringify({ submitterRef: "EMP-1042", requestType: "purchase_order", title: "Office Supplies Q3", amount: 4500 }),
  });
  requestId = ((await res.json()) as { requestId: string }).requestId;
});
afterAll(() => app.close());

describe("the reference's examples run as written", () => {
  it("finds all nine examples in the document (3 endpoints × curl, JavaScript, Python)", () => {
    expect(curlExamples()).toHaveLength(3);
    expect(jsExamples()).toHaveLength(3);
    expect(pythonExamples()).toHaveLength(3);
  });

  it("curl: submit, status, dry-run", async () => {
    const [submit, status, dryRun] = await Promise.all(
      curlExamples().map(async (code) => JSON.parse(await run("bash", ["-c", localise(code)]))),
    );
    expect(submit).toMatchObject({ status: "pending", matrixName: "Engineering PO Matrix" });
    expect(submit.requestId).toMatch(/^req_/);
    expect(status).toMatchObject({
      requestId,
      status: "pending",
      submitterRef: "EMP-1042",
      title: "Office Supplies Q3",
      totalStages: 2,
      decisions: [],
    });
    expect(dryRun).toMatchObject({ requestId: null, dryRun: true, matrixName: "Engineering PO Matrix", createdAt: null });
  });

  it("JavaScript (fetch): submit, status, dry-run", async () => {
    const reveal = [
      "JSON.stringify({ httpStatus: res.status, requestId, status })",
      "JSON.stringify({ httpStatus: res.status, request })",
      "JSON.stringify({ httpStatus: res.status, matrixName, dryRun })",
    ];
    const results = await Promise.all(
      jsExamples().map(async (code, i) =>
        JSON.parse(await run(process.execPath, ["--input-type=module", "-e", `${localise(code)}\nconsole.log(${reveal[i]});`])),
      ),
    );
    expect(results[0]).toMatchObject({ httpStatus: 201, status: "pending" });
    expect(results[0].requestId).toMatch(/^req_/);
    expect(results[1]).toMatchObject({ httpStatus: 200, request: { requestId, status: "pending" } });
    expect(results[2]).toEqual({ httpStatus: 200, matrixName: "Engineering PO Matrix", dryRun: true });
  });

  const python = pythonWithRequests();
  it.skipIf(!python)(
    "Python (requests): submit, status, dry-run" + (python ? "" : " — skipped: no Python with the requests module here"),
    async () => {
      const reveal = `\nimport json\nprint(json.dumps({"httpStatus": resp.status_code, "data": data}))`;
      const results = await Promise.all(
        pythonExamples().map(async (code) => JSON.parse(await run(must(python), ["-c", `${localise(code)}${reveal}`]))),
      );
      expect(results[0]).toMatchObject({ httpStatus: 201, data: { status: "pending", matrixName: "Engineering PO Matrix" } });
      expect(results[1]).toMatchObject({ httpStatus: 200, data: { requestId, status: "pending" } });
      expect(results[2]).toMatchObject({ httpStatus: 200, data: { dryRun: true, requestId: null } });
    },
  );
});
