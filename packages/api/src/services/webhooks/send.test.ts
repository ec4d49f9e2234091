import { generateWebhookSecret, must, signWebhook } from "@approvalmatrix/core";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type HostResolver, type WebhookSettings, sendWebhookAttempt } from "./send";
import { type TestReceiver, startReceiver } from "./test-receiver";

const dev: WebhookSettings = { requireHttps: false, allowLoopback: true, timeoutMs: 2_000 };
const strict: WebhookSettings = { requireHttps: false, allowLoopback: false, timeoutMs: 2_000 };
const resolveTo =
  (...addresses: string[]): HostResolver =>
  () =>
    Promise.resolve(addresses.map((address) => ({ address, family: address.includes(":") ? 6 : 4 })));

let receiver: TestReceiver;
beforeAll(async () => {
  receiver = await startReceiver();
});
afterAll(() => receiver.close());

describe("one webhook attempt over real HTTP", () => {
  it("POSTs the signed body, which the standardwebhooks library verifies", async () => {
    const secret = generateWebhookSecret();
    const body = JSON.stringify({ id: "evt_1", type: "approval_request.approved", data: {} });
    const headers = signWebhook({ id: "evt_1", timestamp: new Date(), body, secrets: [secret] });
    receiver.reply = { status: 204 };
    const result = await sendWebhookAttempt(receiver.url, { ...headers }, body, dev);
    expect(result).toMatchObject({ status: 204, error: null });
    const got = must(receiver.received.at(-1));
    expect(got.headers["content-type"]).toBe("application/json");
    expect(new Webhook(secret).verify(got.body, got.headers as Record<string, string>)).toEqual(JSON.parse(body));
  });

  it("keeps only the first KB of the answer and never follows a redirect", async () => {
    receiver.reply = { status: 500, body: "x".repeat(5000) };
    const failed = await sendWebhookAttempt(receiver.url, {}, "{}", dev);
    expect(failed.status).toBe(500);
    expect(failed.body).toHaveLength(1024);
    const before = receiver.received.length;
    receiver.reply = (_, i) => (i === before ? { status: 302, headers: { location: `${receiver.url}/elsewhere` } } : { status: 200 });
    const redirected = await sendWebhookAttempt(receiver.url, {}, "{}", dev);
    expect(redirected.status).toBe(302);
    expect(receiver.received).toHaveLength(before + 1);
  });

  it("gives up at the deadline", async () => {
    receiver.reply = "hang";
    const result = await sendWebhookAttempt(receiver.url, {}, "{}", { ...dev, timeoutMs: 200 });
    expect(result.status).toBeNull();
    expect(result.error).toMatch(/^timeout/);
    expect(result.durationMs).toBeGreaterThanOrEqual(190);
    receiver.releaseHanging();
  });
});

describe("the SSRF guard on each attempt", () => {
  it("refuses loopback unless allowed, and private, link-local and metadata addresses always", async () => {
    receiver.reply = { status: 200 };
    const before = receiver.received.length;
    for (const url of [
      receiver.url,
      `http://localhost:${receiver.port}/`,
      `http://[::1]:${receiver.port}/`,
      "http://169.254.169.254/latest/meta-data/",
    ]) {
      const result = await sendWebhookAttempt(url, {}, "{}", strict);
      expect(result.error, url).toMatch(/^refused/);
    }
    for (const url of ["http://10.0.0.1/", "http://[fd00:ec2::254]/", "http://[::ffff:169.254.169.254]/", "http://192.168.1.10/"]) {
      expect((await sendWebhookAttempt(url, {}, "{}", dev)).error, url).toMatch(/^refused/);
    }
    expect(receiver.received).toHaveLength(before);
  });

  it("judges every address a host name resolves to, after resolution, and connects to the address it judged", async () => {
    const url = `http://hooks.example.test:${receiver.port}/in`;
    for (const addresses of [["10.1.2.3"], ["8.8.8.8", "169.254.169.254"], ["::ffff:127.0.0.1"], ["::1"]]) {
      const result = await sendWebhookAttempt(url, {}, "{}", strict, resolveTo(...addresses));
      expect(result.error, addresses.join()).toMatch(/^refused: hooks\.example\.test/);
    }
    // Loopback allowed (development): the socket goes to the judged address, with the name as Host.
    const ok = await sendWebhookAttempt(url, {}, "{}", dev, resolveTo("127.0.0.1"));
    expect(ok.status).toBe(200);
    expect(must(receiver.received.at(-1)).headers.host).toBe(`hooks.example.test:${receiver.port}`);
  });

  it("resolves again on every attempt: a name rebound to a private address is refused", async () => {
    let answer = "127.0.0.1";
    const rebinding: HostResolver = () => Promise.resolve([{ address: answer, family: 4 }]);
    const url = `http://rebind.example.test:${receiver.port}/`;
    expect((await sendWebhookAttempt(url, {}, "{}", dev, rebinding)).status).toBe(200);
    answer = "10.0.0.7";
    expect((await sendWebhookAttempt(url, {}, "{}", dev, rebinding)).error).toMatch(/^refused/);
  });

  it("accepts only https in production", async () => {
    const result = await sendWebhookAttempt(receiver.url, {}, "{}", { ...dev, requireHttps: true });
    expect(result.error).toMatch(/only https/);
  });
});
