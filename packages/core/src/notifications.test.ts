import { describe, expect, it } from "vitest";
import {
  asksForDecision,
  decisionLinkState,
  digestDedupeKey,
  digestSlot,
  decisionLinkToken,
  hashDecisionLinkToken,
  isWellFormedDecisionLinkToken,
  sendRetryDelayMs,
} from "./notifications";

describe("sendRetryDelayMs", () => {
  it.each([
    [1, 30_000],
    [2, 60_000],
    [3, 120_000],
    [8, 3_600_000],
    [20, 3_600_000],
  ])("attempt %i waits %i ms before jitter", (attempt, base) => {
    expect(sendRetryDelayMs(attempt, () => 0)).toBe(base);
    expect(sendRetryDelayMs(attempt, () => 1)).toBe(Math.round(base * 1.2));
  });
});

describe("decision link tokens", () => {
  it("are derived from the link id and the secret, well formed, and stored only as a hash", () => {
    const token = decisionLinkToken("secret-one", "dlk_1");
    expect(isWellFormedDecisionLinkToken(token)).toBe(true);
    expect(decisionLinkToken("secret-one", "dlk_1")).toBe(token);
    expect(decisionLinkToken("secret-two", "dlk_1")).not.toBe(token);
    expect(decisionLinkToken("secret-one", "dlk_2")).not.toBe(token);
    expect(hashDecisionLinkToken(token)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashDecisionLinkToken(token)).not.toContain(token);
  });
});

describe("decisionLinkState", () => {
  const now = new Date("2026-01-10T12:00:00Z");
  const usable = {
    usedAt: null,
    expiresAt: new Date("2026-01-11T00:00:00Z"),
    now,
    requestOpen: true,
    currentStage: 1,
    linkStage: 1,
    stageApproverIds: ["mem_jane"],
    approverId: "mem_jane",
    approverDecided: false,
  };
  it.each([
    ["usable", {}],
    ["used", { usedAt: now }],
    ["closed", { requestOpen: false }],
    ["closed", { currentStage: 2 }],
    ["expired", { expiresAt: now }],
    ["superseded", { stageApproverIds: ["mem_bob"] }],
    ["already_decided", { approverDecided: true }],
    // A used link says "used" even once the request has moved on.
    ["used", { usedAt: now, requestOpen: false }],
  ] as const)("%s when %o", (state, change) => {
    expect(decisionLinkState({ ...usable, ...change })).toBe(state);
  });
});

describe("digestSlot", () => {
  it.each([
    ["2026-11-30T08:00:00.000Z", "2026-11-30", "2026-11-30T08:00:00.000Z"],
    ["2026-11-30T17:45:00.000Z", "2026-11-30", "2026-11-30T08:00:00.000Z"],
    ["2026-11-30T07:59:59.999Z", "2026-11-29", "2026-11-29T08:00:00.000Z"],
    ["2026-12-01T00:10:00.000Z", "2026-11-30", "2026-11-30T08:00:00.000Z"],
    ["2027-01-01T03:00:00.000Z", "2026-12-31", "2026-12-31T08:00:00.000Z"],
  ])("at %s the digest owed is the one of %s (%s)", (now, day, at) => {
    const slot = digestSlot(new Date(now));
    expect(slot.day).toBe(day);
    expect(slot.at.toISOString()).toBe(at);
  });

  it("takes another hour, and names one key per member and day", () => {
    expect(digestSlot(new Date("2026-11-30T06:30:00Z"), 6).day).toBe("2026-11-30");
    expect(digestDedupeKey("mem_1", "2026-11-30")).toBe("digest:mem_1:2026-11-30");
  });
});

describe("asksForDecision", () => {
  it("is true for the kinds that ask the member to decide, false for outcomes and digests", () => {
    expect(["stage_opened", "reminder", "escalated", "reassigned"].map(asksForDecision)).toEqual([true, true, true, true]);
    expect(["outcome", "digest", "unknown"].map(asksForDecision)).toEqual([false, false, false]);
  });
});
