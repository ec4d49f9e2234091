/**
 * Where "now" comes from. Services and the job worker read time through a Clock so tests can move
 * it (a deadline passing, a retry falling due) without sleeping.
 */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** A clock tests set and advance by hand. */
export class ManualClock implements Clock {
  private current: number;

  constructor(start: Date | number = Date.now()) {
    this.current = typeof start === "number" ? start : start.getTime();
  }

  now(): Date {
    return new Date(this.current);
  }

  set(at: Date | number): void {
    this.current = typeof at === "number" ? at : at.getTime();
  }

  advance(ms: number): Date {
    this.current += ms;
    return this.now();
  }
}
