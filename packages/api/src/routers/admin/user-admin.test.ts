import { createAdminAuth } from "@approvalmatrix/auth";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { usePasswordReset } from "../../services/users/user-admin";
import { type AdminTestBed, refusal, startAdminTestBed } from "./test-callers";

let bed: AdminTestBed;
beforeAll(async () => {
  bed = await startAdminTestBed();
});
afterAll(() => bed.close());

const invite = (role: "owner" | "admin" | "approver", email: string) =>
  bed.caller().admin.users.create({ email, name: email.split("@")[0] ?? email, role, password: "correct horse battery staple" });

describe("admin.users management", () => {
  it("never leaves the tenant without an owner: the last owner cannot be removed, suspended or demoted", async () => {
    const owner = await invite("owner", "only.owner@acme.example");
    const users = bed.caller().admin.users;
    expect(await refusal(users.remove({ id: owner.id }))).toMatchObject({ code: "conflict", status: 409 });
    expect(await refusal(users.setSuspended({ id: owner.id, suspended: true }))).toMatchObject({ code: "conflict" });
    expect(await refusal(users.setRole({ id: owner.id, role: "admin" }))).toMatchObject({ code: "conflict" });
    const second = await invite("owner", "second.owner@acme.example");
    await expect(users.setRole({ id: owner.id, role: "admin" })).resolves.toEqual({ id: owner.id, role: "admin" });
    expect(await refusal(users.remove({ id: second.id }))).toMatchObject({ code: "conflict" });
  });

  it("lets admins manage approvers only", async () => {
    const admin = await bed.userCaller("admin");
    const approver = await invite("approver", "appr@acme.example");
    const otherAdmin = await invite("admin", "adm2@acme.example");
    await expect(admin.admin.users.setRole({ id: approver.id, role: "approver" })).resolves.toBeTruthy();
    expect(await refusal(admin.admin.users.setRole({ id: approver.id, role: "admin" }))).toMatchObject({ code: "forbidden" });
    expect(await refusal(admin.admin.users.remove({ id: otherAdmin.id }))).toMatchObject({ code: "forbidden" });
  });

  it("suspends a user: their sessions end and they cannot sign in, until unsuspended; last sign-in and sessions are shown", async () => {
    const user = await invite("approver", "suspend.me@acme.example");
    const auth = createAdminAuth(bed.deps.db, bed.deps.rateLimiter, { secureCookies: false });
    const signIn = () =>
      auth.signIn({
        email: "suspend.me@acme.example",
        password: "correct horse battery staple",
        clientIp: "1.1.1.1",
        userAgent: "Test/1.0",
      });
    const first = await signIn();
    expect(first.ok).toBe(true);
    const cookie = first.ok ? (first.setCookie.split(";")[0] ?? "") : "";
    const listed = (await bed.caller().admin.users.list()).find((u) => u.id === user.id);
    expect(listed).toMatchObject({ suspended: false, activeSessions: 1 });
    expect(listed?.lastSignInAt).not.toBeNull();
    expect(await bed.caller().admin.users.sessions({ id: user.id })).toEqual([expect.objectContaining({ userAgent: "Test/1.0" })]);

    await bed.caller().admin.users.setSuspended({ id: user.id, suspended: true });
    expect(await auth.sessions.validate(cookie)).toBeNull();
    expect(await signIn()).toMatchObject({ ok: false, reason: "invalid_credentials" });
    await bed.caller().admin.users.setSuspended({ id: user.id, suspended: false });
    expect((await signIn()).ok).toBe(true);

    const { ended } = await bed.caller().admin.users.endSessions({ id: user.id });
    expect(ended).toBe(1);
    expect(await bed.caller().admin.users.sessions({ id: user.id })).toEqual([]);
  });

  it("resets a password by a single-use link", async () => {
    const user = await invite("approver", "forgot@acme.example");
    const link = await bed.caller().admin.users.resetPassword({ id: user.id });
    expect(link.path).toBe(`/reset-password/${link.token}`);
    expect(await usePasswordReset(bed.deps.db, link.token, "short")).toMatchObject({ ok: false });
    expect(await usePasswordReset(bed.deps.db, link.token, "a brand new passphrase")).toEqual({ ok: true, userId: user.id });
    expect(await usePasswordReset(bed.deps.db, link.token, "another new passphrase")).toMatchObject({ ok: false });
    const auth = createAdminAuth(bed.deps.db, bed.deps.rateLimiter, { secureCookies: false });
    expect((await auth.signIn({ email: "forgot@acme.example", password: "a brand new passphrase", clientIp: "1.1.1.2" })).ok).toBe(true);
  });
});
