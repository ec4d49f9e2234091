/**
 * E-mail notifications and one-click decisions over real HTTP, with a real SMTP server receiving
 * what the product sends (smtp-server + mailparser). Sending is the worker's job: the tests run it
 * as the worker does, with the clock passed in.
 */
import { runDueDeadlines, sendDueMessages } from "@approvalmatrix/api";
import { must } from "@approvalmatrix/core";
import { and, auditLog, decisionLinks, eq, members, messages } from "@approvalmatrix/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SEED_PURCHASE_ORDER, type TestApp, api, startTestApp, unlimitedKey } from "./harness";
import { type ReceivedMail, type SmtpReceiver, startSmtpReceiver } from "./smtp-receiver";

let smtp: SmtpReceiver;
let app: TestApp;
let call: ReturnType<typeof api>;

beforeAll(async () => {
  smtp = await startSmtpReceiver();
  // The tests run the sender themselves (as the worker does), so the in-process worker is off.
  app = await startTestApp({ SMTP_URL: smtp.url, MAIL_FROM: "Approvals <approvals@acme.example>", WORKER: "off" }, { web: true });
  call = api(app, await unlimitedKey(app));
});
afterAll(async () => {
  await app.close();
  await smtp.close();
});

async function submit(): Promise<string> {
  const res = await call("POST", "/v1/requests", SEED_PURCHASE_ORDER);
  expect(res.status).toBe(201);
  return res.body.requestId;
}

const send = (now = new Date()) => sendDueMessages(app.deps, now);

function mailsFor(requestTitle: string, to: string): ReceivedMail[] {
  return smtp.mails.filter((m) => m.subject.includes(requestTitle) && m.to.includes(to));
}

function linkIn(mail: ReceivedMail, label: "Approve" | "Reject"): string {
  const match = new RegExp(`${label}:\\s+(\\S+)`).exec(mail.text);
  return must(match?.[1], `the ${label} link`);
}

/** The confirm form's POST, as the page's own form sends it (same Origin). */
async function confirm(link: string, decision: "approved" | "rejected", extra: Record<string, string> = {}, origin = app.url) {
  const url = new URL(link);
  return fetch(`${url.origin}${url.pathname}`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: origin },
    body: new URLSearchParams({ decision, ...extra }),
    redirect: "manual",
  });
}

async function pageText(link: string): Promise<{ status: number; text: string }> {
  const res = await fetch(link);
  return { status: res.status, text: await res.text() };
}

describe("e-mail when a stage opens", () => {
  it("writes the message with the request, sends it through SMTP with the request's facts and a stable Message-ID", async () => {
    const before = smtp.mails.length;
    const id = await submit();
    const queued = await app.deps.db.select().from(messages).where(eq(messages.requestId, id));
    expect(queued.map((m) => [m.kind, m.status, m.stage])).toEqual([["stage_opened", "pending", 1]]);

    const outcome = await send();
    expect(outcome.sent).toBeGreaterThanOrEqual(1);
    const [mail] = mailsFor("Office Supplies Q3", "jane.smith@acme.example").slice(-1);
    expect(smtp.mails.length).toBeGreaterThan(before);
    expect(mail).toBeDefined();
    const m = must(mail);
    expect(m.from).toContain("approvals@acme.example");
    expect(m.subject).toBe("[Acme Corp (demo)] Approval needed: Office Supplies Q3");
    expect(m.text).toContain("Hello Jane Smith");
    expect(m.text).toMatch(/Amount:\s+4,500 USD/);
    expect(m.text).toMatch(/Submitted by:\s+Alex Kim/);
    expect(m.text).toMatch(/Matrix:\s+Engineering PO/);
    expect(m.text).toMatch(/Stage:\s+Manager approval \(1 of 2\)/);
    expect(m.text).toContain("Please approve or reject this request.");
    expect(m.html).toContain("Office Supplies Q3");
    expect(m.html).toContain(">Approve</a>");
    const sentRow = must((await app.deps.db.select().from(messages).where(eq(messages.requestId, id)))[0]);
    expect(sentRow.status).toBe("sent");
    expect(m.messageId).toBe(`<${sentRow.id}@127.0.0.1>`);
  });

  it("retries a message the SMTP server refused, later and with backoff, and delivers it once", async () => {
    const id = await submit();
    smtp.failNext(1);
    const now = new Date();
    const first = await send(now);
    expect(first.retried).toBe(1);
    const [row] = await app.deps.db.select().from(messages).where(eq(messages.requestId, id));
    expect(row?.status).toBe("pending");
    expect(row?.attempts).toBe(1);
    expect(row?.lastError).toMatch(/451|busy/i);
    expect(must(row).nextAttemptAt.getTime()).toBeGreaterThanOrEqual(now.getTime() + 30_000);
    // Not due yet: nothing is sent.
    expect((await send(now)).sent).toBe(0);
    const later = await send(new Date(now.getTime() + 3_600_000));
    expect(later.sent).toBe(1);
    const [sent] = await app.deps.db.select().from(messages).where(eq(messages.requestId, id));
    expect(sent?.status).toBe("sent");
    expect(smtp.mails.filter((mail) => mail.messageId === `<${must(sent).id}@127.0.0.1>`)).toHaveLength(1);
  });

  it("two senders racing over the same outbox send every message exactly once", async () => {
    const ids = [];
    for (let i = 0; i < 6; i++) ids.push(await submit());
    const before = smtp.mails.length;
    const [a, b] = await Promise.all([send(), send()]);
    expect(a.sent + b.sent).toBe(6);
    const arrived = smtp.mails.slice(before).map((m) => m.messageId);
    expect(new Set(arrived).size).toBe(6);
    expect(arrived).toHaveLength(6);
  });

  it("honours the member's preference (off, daily digest) and the tenant-wide switch", async () => {
    const operator = app.operator(app.demoTenantId);
    const [jane] = await app.deps.db
      .select({ id: members.id })
      .from(members)
      .where(and(eq(members.tenantId, app.demoTenantId), eq(members.externalRef, "EMP-2001")));
    await operator.admin.notifications.setMemberMode({ memberId: must(jane).id, emailMode: "off" });
    const off = await submit();
    await send();
    expect((await app.deps.db.select().from(messages).where(eq(messages.requestId, off)))[0]?.status).toBe("skipped");

    await operator.admin.notifications.setMemberMode({ memberId: must(jane).id, emailMode: "digest" });
    const digest = await submit();
    await send();
    expect((await app.deps.db.select().from(messages).where(eq(messages.requestId, digest)))[0]?.status).toBe("digest");

    await operator.admin.notifications.setMemberMode({ memberId: must(jane).id, emailMode: "immediate" });
    await operator.admin.notifications.setTenantSwitch({ emailEnabled: false });
    const switchedOff = await submit();
    const before = smtp.mails.length;
    await send();
    expect(smtp.mails.length).toBe(before);
    expect((await app.deps.db.select().from(messages).where(eq(messages.requestId, switchedOff)))[0]?.status).toBe("skipped");
    await operator.admin.notifications.setTenantSwitch({ emailEnabled: true });
  });
});

describe("one-click decisions from the e-mail", () => {
  it("GET shows the request and changes nothing; the POST decides once as the approver, with the e-mail link as actor", async () => {
    const id = await submit();
    await send();
    const mail = must(mailsFor("Office Supplies Q3", "jane.smith@acme.example").at(-1));
    const approve = linkIn(mail, "Approve");
    expect(approve).toMatch(new RegExp(`^${app.url}/decide/[A-Za-z0-9_-]{43}\\?decision=approved$`));

    // A scanner opening the link (twice) decides nothing.
    for (let i = 0; i < 2; i++) {
      const page = await pageText(approve);
      expect(page.status).toBe(200);
      expect(page.text).toContain("Confirm your decision");
      expect(page.text).toContain("Office Supplies Q3");
      expect(page.text).toContain("Deciding as <strong>Jane Smith</strong>");
    }
    expect((await call("GET", `/v1/requests/${id}`)).body.status).toBe("pending");
    const [link] = await app.deps.db.select().from(decisionLinks).where(eq(decisionLinks.requestId, id));
    expect(link?.usedAt).toBeNull();
    // Only the hash of the token is stored.
    const token = must(new URL(approve).pathname.split("/").at(-1));
    expect(JSON.stringify(link)).not.toContain(token);

    const res = await confirm(approve, "approved", { comment: "Fine by me" });
    expect(res.status).toBe(200);
    const view = (await call("GET", `/v1/requests/${id}`)).body;
    expect(view.status).toBe("in_progress");
    expect(view.currentStage).toBe(2);
    expect(view.decisions).toMatchObject([{ stage: 1, decidedByRef: "EMP-2001", decision: "approved", comment: "Fine by me" }]);
    const audit = await app.deps.db
      .select({ action: auditLog.action, actorType: auditLog.actorType, actorId: auditLog.actorId })
      .from(auditLog)
      .where(and(eq(auditLog.targetId, id), eq(auditLog.action, "request.decision_recorded")));
    expect(audit).toEqual([{ action: "request.decision_recorded", actorType: "email_link", actorId: must(link).id }]);

    // Reused: refused plainly, nothing changes.
    const again = await confirm(approve, "rejected");
    const againText = await again.text();
    expect(again.status).toBe(409);
    expect(againText).toContain("already used");
    expect((await call("GET", `/v1/requests/${id}`)).body.status).toBe("in_progress");
    expect((await pageText(approve)).text).toContain("This link was already used");

    // Stage 2 opened: Bob is e-mailed, and his Reject link rejects the request.
    await send();
    const bobMail = must(mailsFor("Office Supplies Q3", "bob.lee@acme.example").at(-1));
    const reject = linkIn(bobMail, "Reject");
    expect((await confirm(reject, "rejected")).status).toBe(200);
    expect((await call("GET", `/v1/requests/${id}`)).body.status).toBe("rejected");
    // The submitter hears the outcome.
    await send();
    expect(mailsFor("Office Supplies Q3", "alex.kim@acme.example").at(-1)?.subject).toBe(
      "[Acme Corp (demo)] Your request was rejected: Office Supplies Q3",
    );
  });

  it("refuses a cross-site POST (CSRF) and says plainly when the stage was decided another way", async () => {
    const id = await submit();
    await send();
    const approve = linkIn(must(mailsFor("Office Supplies Q3", "jane.smith@acme.example").at(-1)), "Approve");
    const crossSite = await confirm(approve, "approved", {}, "https://evil.example");
    expect(crossSite.status).toBe(403);
    expect((await call("GET", `/v1/requests/${id}`)).body.status).toBe("pending");

    await call("POST", `/v1/requests/${id}/decisions`, { approverRef: "EMP-2001", decision: "approved" });
    const page = await pageText(approve);
    expect(page.text).toContain("no longer waits for this decision");
    expect(page.text).not.toContain("Deciding as");
    expect((await confirm(approve, "approved")).status).toBe(409);
  });

  it("an unknown or malformed token says so and touches nothing", async () => {
    for (const token of ["x".repeat(43), "not-a-token"]) {
      const page = await pageText(`${app.url}/decide/${token}`);
      expect(page.status).toBe(200);
      expect(page.text).toContain("This link is not valid");
    }
  });
});

describe("escalation", () => {
  it("e-mails the new approver, whose stage gets a fresh deadline from the escalation", async () => {
    await app.operator(app.demoTenantId).admin.matrices.create({
      name: "Travel (escalates)",
      requestType: "travel",
      stages: [
        {
          name: "Manager sign-off",
          approvers: { type: "members", memberRefs: ["EMP-2001"] },
          rule: "any",
          deadline: { dueIn: "48h", onDeadline: "escalate" },
        },
      ],
    });
    const at = Date.now();
    const res = await call("POST", "/v1/requests", {
      submitterRef: "EMP-1042",
      requestType: "travel",
      title: "Trip to Berlin",
      amount: 900,
    });
    expect(res.status).toBe(201);
    await send();
    expect(mailsFor("Trip to Berlin", "jane.smith@acme.example")).toHaveLength(1);

    const escalatedAt = new Date(at + 49 * 3_600_000);
    expect((await runDueDeadlines(app.deps.db, escalatedAt, app.deps.receipts)).escalations).toBeGreaterThanOrEqual(1);
    await send(escalatedAt);
    const [mail] = mailsFor("Trip to Berlin", "bob.lee@acme.example");
    const m = must(mail);
    expect(m.subject).toBe("[Acme Corp (demo)] Escalated to you: Trip to Berlin");
    expect(m.text).toContain("(it waited on Jane Smith)");
    const freshDue = new Date(escalatedAt.getTime() + 48 * 3_600_000).toISOString().replace(".000Z", "Z");
    expect(m.text).toMatch(new RegExp(`Due:\\s+${freshDue.replace(/[.]/g, "\\.")}`));
    // Bob's link decides for Bob.
    expect((await pageText(linkIn(m, "Approve"))).status).toBe(200);
    expect((await confirm(linkIn(m, "Approve"), "approved")).status).toBeLessThan(400);
    expect((await call("GET", `/v1/requests/${res.body.requestId}`)).body).toMatchObject({
      status: "approved",
      decisions: [{ decidedByRef: "EMP-3001", actor: { type: "email_link" } }],
    });
  });
});

describe("without SMTP_URL", () => {
  it("keeps every message, renders it in the Outbox with working links, and sends nothing", async () => {
    const local = await startTestApp({ WORKER: "off" });
    try {
      const key = await unlimitedKey(local);
      const res = await api(local, key)("POST", "/v1/requests", SEED_PURCHASE_ORDER);
      const before = smtp.mails.length;
      const outcome = await sendDueMessages(local.deps, new Date());
      expect(outcome).toMatchObject({ held: 1, sent: 0 });
      expect(smtp.mails.length).toBe(before);
      const outbox = await local.operator(local.demoTenantId).admin.notifications.outbox({ limit: 10 });
      expect(outbox.delivery).toBe("outbox");
      const held = must(outbox.messages.find((m) => m.requestId === res.body.requestId));
      expect(held).toMatchObject({
        status: "held",
        to: "jane.smith@acme.example",
        subject: "[Acme Corp (demo)] Approval needed: Office Supplies Q3",
      });
      expect(held.text).toMatch(new RegExp(`Approve: ${local.url}/decide/`));
    } finally {
      await local.close();
    }
  }, 180_000);
});
