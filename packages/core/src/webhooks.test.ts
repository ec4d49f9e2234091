import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import {
  WEBHOOK_MAX_ATTEMPTS,
  WEBHOOK_RETRY_DELAYS_MS,
  checkWebhookAddress,
  checkWebhookUrl,
  decryptWebhookSecret,
  encryptWebhookSecret,
  generateWebhookSecret,
  nextWebhookAttempt,
  parseRetryAfter,
  signWebhook,
} from "./webhooks";
import { must } from "./must";

describe("Standard Webhooks signing", () => {
  it("produces headers the standardwebhooks library verifies, with each secret of a rotation", () => {
    const current = generateWebhookSecret();
    const previous = generateWebhookSecret();
    expect(current).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const body = JSON.stringify({ id: "evt_1", type: "approval_request.approved", data: { requestId: "req_1" } });
    const headers = signWebhook({ id: "evt_1", timestamp: new Date(), body, secrets: [current, previous] });
    expect(headers["webhook-signature"].split(" ")).toHaveLength(2);
    for (const secret of [current, previous]) {
      expect(new Webhook(secret).verify(body, { ...headers })).toEqual(JSON.parse(body));
    }
    // A third secret, or a changed body, id or timestamp, does not verify.
    expect(() => new Webhook(generateWebhookSecret()).verify(body, { ...headers })).toThrow();
    expect(() => new Webhook(current).verify(`${body} `, { ...headers })).toThrow();
    expect(() => new Webhook(current).verify(body, { ...headers, "webhook-id": "evt_2" })).toThrow();
  });

  it("matches the library's own signature byte for byte", () => {
    const secret = generateWebhookSecret();
    const at = new Date("2026-11-30T10:00:00Z");
    expect(signWebhook({ id: "msg_x", timestamp: at, body: "{}", secrets: [secret] })["webhook-signature"]).toBe(
      new Webhook(secret).sign("msg_x", at, "{}"),
    );
  });
});

describe("secrets at rest", () => {
  it("round-trips under the server secret and fails under another", () => {
    const secret = generateWebhookSecret();
    const stored = encryptWebhookSecret("server-secret-one-with-enough-entropy", secret);
    expect(stored).not.toContain(secret.slice(6, 20));
    expect(decryptWebhookSecret("server-secret-one-with-enough-entropy", stored)).toBe(secret);
    expect(() => decryptWebhookSecret("another-server-secret-with-entropy", stored)).toThrow();
  });
});

describe("retry schedule", () => {
  it("follows the spec's delays with at most ±10 % jitter, then gives up", () => {
    const now = new Date("2026-01-01T00:00:00Z");
    const expected = [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 50_400_000, 72_000_000, 86_400_000];
    expect([...WEBHOOK_RETRY_DELAYS_MS]).toEqual(expected);
    expect(WEBHOOK_MAX_ATTEMPTS).toBe(10);
    expected.forEach((delay, i) => {
      const low = nextWebhookAttempt(i + 1, now, { random: () => 0 });
      const high = nextWebhookAttempt(i + 1, now, { random: () => 0.999999 });
      expect(must(low).getTime() - now.getTime()).toBe(Math.round(delay * 0.9));
      expect(must(high).getTime() - now.getTime()).toBeCloseTo(delay * 1.1, -2);
    });
    expect(nextWebhookAttempt(10, now)).toBeNull();
  });

  it("honours a longer Retry-After, in seconds or as a date, capped at a day", () => {
    const now = new Date("2026-01-01T00:00:00Z");
    expect(parseRetryAfter("120", now)).toBe(120_000);
    expect(parseRetryAfter("Thu, 01 Jan 2026 00:10:00 GMT", now)).toBe(600_000);
    expect(parseRetryAfter("soon", now)).toBeNull();
    const at = nextWebhookAttempt(1, now, { retryAfterMs: 120_000, random: () => 0.5 });
    expect(must(at).getTime() - now.getTime()).toBe(120_000);
    const capped = nextWebhookAttempt(1, now, { retryAfterMs: 10 * 86_400_000, random: () => 0.5 });
    expect(must(capped).getTime() - now.getTime()).toBe(86_400_000);
  });
});

describe("SSRF guard", () => {
  const strict = { allowLoopback: false };
  const dev = { allowLoopback: true };
  it.each([
    "127.0.0.1",
    "127.10.0.1",
    "::1",
    "::ffff:127.0.0.1",
    "::ffff:7f00:1",
    "10.1.2.3",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.1.1",
    "169.254.169.254",
    "100.100.100.200",
    "0.0.0.0",
    "::",
    "::ffff:10.0.0.1",
    "::ffff:169.254.169.254",
    "64:ff9b::a9fe:a9fe",
    "2002:a9fe:a9fe::1",
    "fd00:ec2::254",
    "fe80::1",
    "fe80::1%eth0",
    "224.0.0.1",
    "255.255.255.255",
  ])("refuses %s", (address) => {
    expect(checkWebhookAddress(address, strict).allowed).toBe(false);
  });

  it.each(["93.184.215.14", "8.8.8.8", "172.32.0.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"])("allows %s", (address) => {
    expect(checkWebhookAddress(address, strict).allowed).toBe(true);
  });

  it("allows loopback, and only loopback, when configured for development", () => {
    expect(checkWebhookAddress("127.0.0.1", dev).allowed).toBe(true);
    expect(checkWebhookAddress("::ffff:127.0.0.1", dev).allowed).toBe(true);
    expect(checkWebhookAddress("10.0.0.1", dev).allowed).toBe(false);
    expect(checkWebhookAddress("169.254.169.254", dev).allowed).toBe(false);
  });

  it("judges URLs: https in production, no credentials, no forbidden literal hosts", () => {
    const production = { requireHttps: true, allowLoopback: false };
    expect(checkWebhookUrl("https://hooks.example.com/in", production)).toEqual({ allowed: true });
    expect(checkWebhookUrl("http://hooks.example.com/in", production).allowed).toBe(false);
    expect(checkWebhookUrl("http://hooks.example.com/in", { requireHttps: false, allowLoopback: false }).allowed).toBe(true);
    expect(checkWebhookUrl("ftp://hooks.example.com/in", { requireHttps: false, allowLoopback: true }).allowed).toBe(false);
    expect(checkWebhookUrl("https://user:pw@hooks.example.com/", production).allowed).toBe(false);
    expect(checkWebhookUrl("https://[::1]/", production).allowed).toBe(false);
    expect(checkWebhookUrl("https://169.254.169.254/latest", production).allowed).toBe(false);
    expect(checkWebhookUrl("https://localhost:8443/", production).allowed).toBe(false);
    expect(checkWebhookUrl("http://localhost:8443/", { requireHttps: false, allowLoopback: true }).allowed).toBe(true);
    expect(checkWebhookUrl("not a url", production).allowed).toBe(false);
  });
});
