import { describe, expect, it } from "vitest";
import { DomainError } from "./errors";
import { isOverdue, nextOverdueReminder, parseDuration, planStageDeadline } from "./deadlines";

describe("parseDuration", () => {
  it.each([
    ["30m", 1_800_000],
    ["48h", 172_800_000],
    ["2d", 172_800_000],
    [" 1H ", 3_600_000],
  ])("%s", (text, ms) => expect(parseDuration(text)).toBe(ms));
  it.each(["", "48", "h", "1.5h", "0m", "400d", "-1h"])("refuses %j", (text) => expect(() => parseDuration(text)).toThrow(DomainError));
});

describe("planStageDeadline", () => {
  const opened = new Date("2026-01-05T09:00:00Z");
  it("plans the early reminder and the deadline", () => {
    const plan = planStageDeadline({ dueIn: "48h", remindBefore: "24h", onDeadline: "escalate" }, opened);
    expect(plan.dueAt.toISOString()).toBe("2026-01-07T09:00:00.000Z");
    expect(plan.steps.map((s) => [s.kind, s.runAt.toISOString()])).toEqual([
      ["reminder", "2026-01-06T09:00:00.000Z"],
      ["deadline", "2026-01-07T09:00:00.000Z"],
    ]);
  });
  it("drops a reminder that would come before the stage opened", () => {
    const plan = planStageDeadline({ dueIn: "1h", remindBefore: "2h", onDeadline: "none" }, opened);
    expect(plan.steps.map((s) => s.kind)).toEqual(["deadline"]);
  });
  it("repeats overdue reminders only when asked", () => {
    expect(nextOverdueReminder({ dueIn: "1h", onDeadline: "none" }, opened)).toBeNull();
    expect(nextOverdueReminder({ dueIn: "1h", remindEvery: "12h", onDeadline: "none" }, opened)?.runAt.toISOString()).toBe(
      "2026-01-05T21:00:00.000Z",
    );
  });
  it("is overdue from the due instant on", () => {
    expect(isOverdue(null, opened)).toBe(false);
    expect(isOverdue(opened, opened)).toBe(true);
    expect(isOverdue(new Date(opened.getTime() + 1), opened)).toBe(false);
  });
});
