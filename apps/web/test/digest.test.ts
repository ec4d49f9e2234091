/**
 * The daily digest over real HTTP and a real SMTP receiver: a member on "daily digest" gets one
 * e-mail a day at 08:00 UTC listing the approvals still waiting for them that were queued since
 * their last digest — once, however many composers run. Time moves on a ManualClock and the
 * server's own worker runs the periodic jobs: no sleeping until 08:00.
 */
import { composeDueDigests } from "@approvalmatrix/api";
import { DIGEST_HOUR_UTC, ManualClock, must } from "@approvalmatrix/core";
import { and, eq, members, messages } from "@approvalmatrix/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestApp, api, startTestApp, unlimitedKey } from "./harness";
import { type SmtpReceiver, startSmtpReceiver } from "./smtp-receiver";

const DAY = 86_400_000;
const clock = new ManualClock();
let smtp: SmtpReceiver;
let app: TestApp;
let call: ReturnType<typeof api>;

beforeAll(async () => {
  smtp = await startSmtpReceiver();
  app = await startTestApp({ SMTP_URL: smtp.url, MAIL_FROM: "Approvals <approvals@acme.example>" }, { clock });
  call = api(app, await unlimitedKey(app));
});
afterAll(async () => {
  await app.close();
  await smtp.close();
});

const digestsToJane = () => smtp.mails.filter((m) => m.to.includes("jane.smith@acme.example") && m.subject.includes("digest"));

/** Moves the clock to `at` and lets the worker run what is due there (sending included). */
async function runAt(at: number): Promise<void> {
  clock.set(at);
  for (let i = 0; i < 3; i++) {
    await app.worker?.runDue();
    // The sender's next periodic run is 2 s on: step past it so a digest composed just now goes out.
    clock.advance(3_000);
  }
  await app.worker?.runDue();
}

async function submit(title: string): Promise<string> {
  const res = await call("POST", "/v1/requests", {
    submitterRef: "EMP-1042",
    requestType: "purchase_order",
    title,
    amount: 1200,
    currency: "USD",
    metadata: { department: "Engineering" },
  });
  expect(res.status).toBe(201);
  return res.body.requestId;
}

describe("daily digest", () => {
  it("sends one e-mail a day at the digest hour, listing the approvals still waiting, exactly once", async () => {
    const [jane] = await app.deps.db
      .select({ id: members.id })
      .from(members)
      .where(and(eq(members.tenantId, app.demoTenantId), eq(members.externalRef, "EMP-2001")));
    const janeId = must(jane).id;
    await app.operator(app.demoTenantId).admin.notifications.setMemberMode({ memberId: janeId, emailMode: "digest" });

    const now = Date.now();
    const first = await submit("Laptop for the new hire");
    const second = await submit("Conference tickets");
    const decided = await submit("Team lunch");
    await call("POST", `/v1/requests/${decided}/decisions`, { approverRef: "EMP-2001", decision: "approved" });

    // The next 08:00 UTC after the submissions.
    const today = new Date(now);
    let hour = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate(), DIGEST_HOUR_UTC);
    if (hour <= now) hour += DAY;

    // Queued, parked for the digest, nothing sent yet — also a minute before the hour.
    await runAt(now + 1_000);
    await runAt(hour - 60_000);
    expect(digestsToJane()).toEqual([]);
    const parked = await app.deps.db.select({ status: messages.status }).from(messages).where(eq(messages.requestId, first));
    expect(parked).toEqual([{ status: "digest" }]);

    // Two composers racing at the hour, as several instances would: the day's digest is made once.
    await Promise.all([composeDueDigests(app.deps.db, new Date(hour + 60_000)), composeDueDigests(app.deps.db, new Date(hour + 60_000))]);
    // The digest job runs every 5 minutes: the digest goes out within them.
    await runAt(hour + 6 * 60_000);
    const digests = digestsToJane();
    expect(digests).toHaveLength(1);
    const mail = must(digests[0]);
    expect(mail.subject).toBe("[Acme Corp (demo)] Your daily approvals digest: 2 waiting for you");
    expect(mail.text).toContain("Laptop for the new hire — 1,200 USD from Alex Kim, Manager approval (stage 1 of 2)");
    expect(mail.text).toContain(`/requests/${second}`);
    // Decided meanwhile: not listed.
    expect(mail.text).not.toContain("Team lunch");
    expect(mail.html).toContain("Conference tickets");

    // Later the same day, composers running again: no second digest.
    await Promise.all([
      composeDueDigests(app.deps.db, new Date(hour + 7 * 60_000)),
      composeDueDigests(app.deps.db, new Date(hour + 7 * 60_000)),
    ]);
    const third = await submit("Standing desk");
    await runAt(hour + 6 * 3_600_000);
    expect(digestsToJane()).toHaveLength(1);
    const carried = await app.deps.db
      .select({ status: messages.status, digestId: messages.digestId })
      .from(messages)
      .where(and(eq(messages.memberId, janeId), eq(messages.kind, "stage_opened"), eq(messages.status, "digested")));
    expect(new Set(carried.map((m) => m.digestId)).size).toBe(1);

    // The next day's digest carries what came after the first one.
    await runAt(hour + DAY + 6 * 60_000);
    expect(digestsToJane()).toHaveLength(2);
    const next = must(digestsToJane()[1]);
    expect(next.subject).toContain("1 waiting for you");
    expect(next.text).toContain(`/requests/${third}`);
    expect(next.text).not.toContain("Laptop for the new hire");
    const digestRows = await app.deps.db
      .select({ key: messages.dedupeKey, status: messages.status })
      .from(messages)
      .where(and(eq(messages.memberId, janeId), eq(messages.kind, "digest")));
    expect(digestRows.map((r) => r.status)).toEqual(["sent", "sent"]);
    await app.operator(app.demoTenantId).admin.notifications.setMemberMode({ memberId: janeId, emailMode: "immediate" });
  });
});
