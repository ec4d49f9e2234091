/**
 * Business hours: a stage's `dueIn` counted only while the office is open (Mon–Fri, 09:00–17:00
 * UTC; tenants have no time zone setting yet). Pure; table-tested in business-hours.test.ts.
 */
export interface BusinessHours {
  /** Opening hour, 0–23 (UTC). */
  startHour: number;
  /** Closing hour, 1–24 (UTC), after startHour. */
  endHour: number;
  /** Open days, 0 = Sunday … 6 = Saturday. */
  days: readonly number[];
}

export const DEFAULT_BUSINESS_HOURS: BusinessHours = { startHour: 9, endHour: 17, days: [1, 2, 3, 4, 5] };

export const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/**
 * The instant `ms` of business time after `start`. Time outside business hours does not count: a
 * start before opening, after closing or on a closed day counts from the next opening. A duration
 * that ends exactly at closing time ends then (not at the next opening).
 */
export function addBusinessTime(start: Date, ms: number, hours: BusinessHours = DEFAULT_BUSINESS_HOURS): Date {
  if (hours.days.length === 0 || hours.endHour <= hours.startHour)
    throw new Error("business hours need an open day and an opening before closing");
  let remaining = ms;
  let t = start.getTime();
  for (;;) {
    const midnight = t - (((t % DAY_MS) + DAY_MS) % DAY_MS);
    const open = midnight + hours.startHour * HOUR_MS;
    const close = midnight + hours.endHour * HOUR_MS;
    const weekday = new Date(midnight).getUTCDay();
    if (!hours.days.includes(weekday) || t >= close) {
      t = midnight + DAY_MS;
      continue;
    }
    if (t < open) t = open;
    if (t + remaining <= close) return new Date(t + remaining);
    remaining -= close - t;
    t = midnight + DAY_MS;
  }
}
