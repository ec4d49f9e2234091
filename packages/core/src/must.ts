/**
 * `value`, or a thrown Error naming what was missing. Replaces a `!` where the program (or a test)
 * knows a value is present but the types cannot: a wrong belief fails here, with `what`, instead of
 * as a TypeError further on.
 */
export function must<T>(value: T | null | undefined, what = "value"): T {
  if (value === null || value === undefined) throw new Error(`Expected ${what} to be present.`);
  return value;
}
