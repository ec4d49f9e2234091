/**
 * Stage deadlines: how long a stage may wait (`dueIn`, e.g. "48h"), when to remind, and what
 * happens when it runs out. Pure: the service turns a plan into durable jobs when the stage opens
 * and cancels them when it closes. Table-tested in deadlines.test.ts.
 */
import { type BusinessHours, DEFAULT_BUSINESS_HOURS, HOUR_MS, addBusinessTime } from "./business-hours";
import { DomainError } from "./errors";

export const DEADLINE_ACTIONS = ["none", "escalate", "auto_approve", "auto_reject"] as const;
export type DeadlineAction = (typeof DEADLINE_ACTIONS)[number];

export const DEADLINE_ACTION_LABELS: Record<DeadlineAction, string> = {
  none: "Nothing (stay overdue)",
  escalate: "Escalate",
  auto_approve: "Approve automatically",
  auto_reject: "Reject automatically",
};

export interface StageDeadline {
  /** "30m", "48h", "2d". */
  dueIn: string;
  /** Remind the pending approvers this long before the deadline ("24h"); absent: no early reminder. */
  remindBefore?: string | null;
  /** Once overdue, remind again every this long ("12h"); absent: no overdue reminders. */
  remindEvery?: string | null;
  onDeadline: DeadlineAction;
  /** escalate: how many manager levels up from each pending approver (default 1). */
  escalateLevels?: number | null;
  /** escalate: these members (externalRefs) when no manager is found (or instead of managers when set alone). */
  fallbackRefs?: string[] | null;
  /**
   * Count `dueIn` in business hours only (Mon–Fri 09:00–17:00 UTC; a day is one working day).
   * Reminders stay in wall-clock time.
   */
  businessHours?: boolean | null;
}

const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** "48h" → 172 800 000 ms. Accepts whole minutes, hours and days, from 1 minute to 365 days. */
export function parseDuration(text: string): number {
  const match = /^\s*(\d{1,6})\s*([mhd])\s*$/i.exec(text);
  if (!match) throw new DomainError("invalid_request", `"${text}" is not a duration: write e.g. 30m, 48h or 2d.`);
  const ms = Number(match[1]) * UNIT_MS[(match[2] ?? "h").toLowerCase() as keyof typeof UNIT_MS];
  if (ms < UNIT_MS.m || ms > 365 * UNIT_MS.d) throw new DomainError("invalid_request", `"${text}" must be between 1 minute and 365 days.`);
  return ms;
}

/** A duration counted in business hours: hours and minutes as written, a day is one working day (8 h by default). */
export function businessDurationMs(text: string, hours: BusinessHours = DEFAULT_BUSINESS_HOURS): number {
  const ms = parseDuration(text);
  const days = /^\s*(\d{1,6})\s*d\s*$/i.exec(text);
  return days ? Number(days[1]) * (hours.endHour - hours.startHour) * HOUR_MS : ms;
}

export function isDuration(text: string): boolean {
  try {
    parseDuration(text);
    return true;
  } catch {
    return false;
  }
}

export type DeadlineStepKind = "reminder" | "deadline" | "overdue_reminder";

export interface DeadlineStep {
  kind: DeadlineStepKind;
  runAt: Date;
}

/** What to schedule when a stage with `deadline` opens at `openedAt`: its due date and the first steps. */
export function planStageDeadline(deadline: StageDeadline, openedAt: Date): { dueAt: Date; steps: DeadlineStep[] } {
  const dueAt = deadline.businessHours
    ? addBusinessTime(openedAt, businessDurationMs(deadline.dueIn))
    : new Date(openedAt.getTime() + parseDuration(deadline.dueIn));
  const steps: DeadlineStep[] = [];
  if (deadline.remindBefore) {
    const at = dueAt.getTime() - parseDuration(deadline.remindBefore);
    if (at > openedAt.getTime()) steps.push({ kind: "reminder", runAt: new Date(at) });
  }
  steps.push({ kind: "deadline", runAt: dueAt });
  return { dueAt, steps };
}

/** After the deadline step ran (and the stage is still open): the next overdue reminder, if any. */
export function nextOverdueReminder(deadline: StageDeadline, after: Date): DeadlineStep | null {
  if (!deadline.remindEvery) return null;
  return { kind: "overdue_reminder", runAt: new Date(after.getTime() + parseDuration(deadline.remindEvery)) };
}

/** Whether a stage due at `dueAt` is overdue at `now` (the inbox's and list's badge). */
export function isOverdue(dueAt: Date | null, now: Date): boolean {
  return dueAt !== null && dueAt.getTime() <= now.getTime();
}
