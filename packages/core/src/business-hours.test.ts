import { describe, expect, it } from "vitest";
import { addBusinessTime } from "./business-hours";
import { DomainError } from "./errors";
import { businessDurationMs, planStageDeadline } from "./deadlines";

const H = 3_600_000;
// 2026-01-05 is a Monday.
describe("addBusinessTime (Mon–Fri 09:00–17:00 UTC)", () => {
  it.each([
    ["within one day", "2026-01-05T10:00:00Z", 3 * H, "2026-01-05T13:00:00.000Z"],
    ["ending exactly at closing", "2026-01-05T09:00:00Z", 8 * H, "2026-01-05T17:00:00.000Z"],
    ["crossing into the next day", "2026-01-05T15:00:00Z", 4 * H, "2026-01-06T11:00:00.000Z"],
    ["crossing several days", "2026-01-05T09:00:00Z", 20 * H, "2026-01-07T13:00:00.000Z"],
    ["starting before opening", "2026-01-05T06:30:00Z", 1 * H, "2026-01-05T10:00:00.000Z"],
    ["starting after closing", "2026-01-05T18:00:00Z", 2 * H, "2026-01-06T11:00:00.000Z"],
    ["starting at closing", "2026-01-05T17:00:00Z", 30 * 60_000, "2026-01-06T09:30:00.000Z"],
    ["Friday afternoon runs over the weekend", "2026-01-09T16:00:00Z", 2 * H, "2026-01-12T10:00:00.000Z"],
    ["starting on Saturday", "2026-01-10T12:00:00Z", 1 * H, "2026-01-12T10:00:00.000Z"],
    ["starting on Sunday night", "2026-01-11T23:59:00Z", 8 * H, "2026-01-12T17:00:00.000Z"],
    ["a whole week of 40 hours", "2026-01-05T09:00:00Z", 40 * H, "2026-01-09T17:00:00.000Z"],
    ["zero", "2026-01-10T12:00:00Z", 0, "2026-01-12T09:00:00.000Z"],
  ])("%s", (_name, start, ms, due) => expect(addBusinessTime(new Date(start), ms).toISOString()).toBe(due));

  it("takes other hours and days", () => {
    const sixDays = { startHour: 8, endHour: 12, days: [1, 2, 3, 4, 5, 6] };
    expect(addBusinessTime(new Date("2026-01-10T11:00:00Z"), 2 * H, sixDays).toISOString()).toBe("2026-01-12T09:00:00.000Z");
    expect(() => addBusinessTime(new Date(), H, { startHour: 9, endHour: 9, days: [1] })).toThrow();
  });
});

describe("businessDurationMs", () => {
  it.each([
    ["4h", 4 * H],
    ["90m", 1.5 * H],
    ["2d", 16 * H],
  ])("%s", (text, ms) => expect(businessDurationMs(text)).toBe(ms));
  it("refuses what parseDuration refuses", () => expect(() => businessDurationMs("2w")).toThrow(DomainError));
});

describe("planStageDeadline with businessHours", () => {
  it("counts dueIn in business hours: Friday 16:00 + 16h is Tuesday 16:00", () => {
    const plan = planStageDeadline({ dueIn: "16h", businessHours: true, onDeadline: "none" }, new Date("2026-01-09T16:00:00Z"));
    expect(plan.dueAt.toISOString()).toBe("2026-01-13T16:00:00.000Z");
  });
  it("counts a day as one working day", () => {
    const plan = planStageDeadline({ dueIn: "1d", businessHours: true, onDeadline: "none" }, new Date("2026-01-05T12:00:00Z"));
    expect(plan.dueAt.toISOString()).toBe("2026-01-06T12:00:00.000Z");
  });
  it("leaves wall-clock deadlines alone", () => {
    const plan = planStageDeadline({ dueIn: "16h", onDeadline: "none" }, new Date("2026-01-09T16:00:00Z"));
    expect(plan.dueAt.toISOString()).toBe("2026-01-10T08:00:00.000Z");
  });
});
