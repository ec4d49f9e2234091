/**
 * The admin app's Webhooks pages over HTTP, as a browser posts them: add an endpoint (the secret
 * shown once), send a test, see the delivery log, rotate, disable with a visible reason.
 */
import { dispatchEvents, webhookFanOut } from "@approvalmatrix/api";
import { startReceiver, type TestReceiver } from "@approvalmatrix/api/testing/webhook-receiver";
import { must } from "@approvalmatrix/core";
import { webhookEndpoints } from "@approvalmatrix/db";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { browserFetch, sessionCookie } from "./admin-fixtures";
import { type TestApp, startTestApp } from "./harness";

let app: TestApp;
let receiver: TestReceiver;
let page: ReturnType<typeof browserFetch>;

beforeAll(async () => {
  app = await startTestApp({ WEBHOOK_ALLOW_LOOPBACK: "true", WORKER: "off" }, { web: true });
  receiver = await startReceiver();
  page = browserFetch(app, await sessionCookie(app, "admin@acme.example"));
});
afterAll(async () => {
  await receiver.close();
  await app.close();
});

const text = async (res: Response) => {
  expect(res.status, `${res.url} answered ${res.status}`).toBeLessThan(400);
  return res.text();
};

describe("the Webhooks pages", () => {
  let endpointId: string;
  let secret: string;

  it("adds an endpoint and shows its secret once", async () => {
    const html = await text(await page("/webhooks?index", { form: { url: receiver.url, description: "ERP" } }));
    secret = must(/data-testid="new-secret">(whsec_[^<]+)</.exec(html)?.[1]);
    const [row] = await app.deps.db.select().from(webhookEndpoints);
    endpointId = must(row).id;
    const list = await text(await page("/webhooks"));
    expect(list).toContain(receiver.url);
    expect(list).not.toContain(secret);
  });

  it("shows the deliveries waiting and how late the oldest due one is", async () => {
    expect(await text(await page("/webhooks"))).toContain("No deliveries waiting");
    // The worker is off: the demo tenant's events fan out to the endpoint and stay due.
    const { created } = await dispatchEvents(app.deps.db, app.deps.clock.now(), webhookFanOut(app.deps));
    expect(created).toBeGreaterThan(0);
    const list = await text(await page("/webhooks"));
    expect(list).toMatch(new RegExp(`${created} deliver(y|ies) waiting; ${created} due now, the oldest for \\d+ s`));
  });

  it("sends a signed test ping and shows it in the delivery log", async () => {
    const html = await text(await page(`/webhooks/${endpointId}`, { form: { intent: "test" } }));
    expect(html).toContain("Test ping delivered: the receiver answered 200.");
    const ping = must(receiver.received[0]);
    expect((new Webhook(secret).verify(ping.body, ping.headers as Record<string, string>) as { type: string }).type).toBe("webhook.test");
    const detail = await text(await page(`/webhooks/${endpointId}`));
    expect(detail).toContain("webhook.test");
    expect(detail).toContain(ping.headers["webhook-id"] as string);
  });

  it("rotates the secret (shown once) and disables with the reason on the list", async () => {
    const rotated = await text(await page(`/webhooks/${endpointId}`, { form: { intent: "rotate" } }));
    const newSecret = must(/data-testid="new-secret">(whsec_[^<]+)</.exec(rotated)?.[1]);
    expect(newSecret).not.toBe(secret);
    expect(rotated).toContain("the previous secret also signs until");
    await text(await page(`/webhooks/${endpointId}`, { form: { intent: "disable", id: endpointId } }));
    const list = await text(await page("/webhooks"));
    expect(list).toContain("1 endpoint is disabled");
    expect(list).toContain("Disabled by a person of the tenant.");
  });

  it("is for admins: the page needs a session", async () => {
    const res = await browserFetch(app, null)("/webhooks");
    expect(res.status).toBe(302);
  });
});
