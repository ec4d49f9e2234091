// The admin app and receipts, over real HTTP: a decision made with the request page's form yields
// a signed receipt shown as verified and downloadable for offline checking; the audit page shows
// the log's latest checkpoint, walks the whole log and (for owners) rotates the signing key.
import { must } from "@approvalmatrix/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { browserFetch, sessionCookie } from "./admin-fixtures";
import { SEED_PURCHASE_ORDER, type TestApp, api, startTestApp } from "./harness";

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({}, { web: true });
});
afterAll(() => app.close());

const text = async (res: Response) => ({ status: res.status, html: await res.text() });

describe("receipts in the admin app", () => {
  it("a decision made with the request page's form yields a verified, downloadable receipt", async () => {
    const created = await api(app, app.demoKey)("POST", "/v1/requests", SEED_PURCHASE_ORDER);
    const id: string = created.body.requestId;
    for (const email of ["jane.smith@acme.example", "bob.lee@acme.example"]) {
      const as = browserFetch(app, await sessionCookie(app, email));
      const res = await as(`/requests/${id}`, { form: { decision: "approved", comment: `signed by ${email}` } });
      expect(res.status).toBeLessThan(400);
    }
    const owner = browserFetch(app, await sessionCookie(app, "admin@acme.example"));
    const page = await text(await owner(`/requests/${id}`));
    expect(page.status).toBe(200);
    expect(page.html).toContain("Signed receipts");
    expect(page.html).toMatch(/data-testid="receipts-state"[^>]*>verified</);
    expect(page.html).toMatch(/Final approval/);
    expect(page.html).toContain(`/requests/${id}/receipts/0.json`);

    const download = await owner(`/requests/${id}/receipts/0.json`);
    expect(download.status).toBe(200);
    expect(download.headers.get("content-disposition")).toBe(`attachment; filename="receipt-${id}-0.json"`);
    const bundle = (await download.json()) as {
      envelope: { payload: string };
      inclusionProof: { leafIndex: number };
      checkpoint: unknown;
      keySetUrl: string;
    };
    const body = JSON.parse(Buffer.from(bundle.envelope.payload, "base64").toString("utf8"));
    expect(body).toMatchObject({ kind: "decision", approver: { ref: "EMP-2001" }, actor: { type: "user" }, requestId: id });
    expect(bundle.keySetUrl).toBe(`${app.url}/v1/keys`);
    const verified = await api(app, null)("POST", "/v1/receipts/verify", {
      envelope: bundle.envelope,
      proof: bundle.inclusionProof,
      checkpoint: bundle.checkpoint,
    });
    expect(verified.body).toMatchObject({ valid: true, inLog: true });

    // Another tenant's user cannot download it.
    expect((await browserFetch(app, null)(`/requests/${id}/receipts/0.json`)).status).toBe(302);
  });

  it("the audit page shows the latest checkpoint, verifies the whole log, and lets an owner rotate the key", async () => {
    const owner = browserFetch(app, await sessionCookie(app, "admin@acme.example"));
    const audit = await text(await owner("/audit"));
    expect(audit.status).toBe(200);
    expect(audit.html).toContain("Signed receipt log");
    expect(audit.html).toMatch(/data-testid="latest-checkpoint"[\s\S]*?signature valid/);

    const walked = await text(await owner("/audit", { form: { intent: "verify-log" } }));
    expect(walked.html).toContain("The log is intact");

    const before = (await api(app, null)("GET", "/v1/keys")).body.keys as { kid: string; status: string }[];
    const rotated = await text(await owner("/audit", { form: { intent: "rotate-key" } }));
    expect(rotated.html).toContain("Signing key rotated");
    const after = (await api(app, null)("GET", "/v1/keys")).body.keys as { kid: string; status: string }[];
    expect(must(after.find((k) => k.status === "active")).kid).toBe(must(before.find((k) => k.status === "next")).kid);

    // Only owners rotate.
    const approver = browserFetch(app, await sessionCookie(app, "jane.smith@acme.example"));
    expect((await approver("/audit", { form: { intent: "rotate-key" } })).status).toBe(403);
  });
});
