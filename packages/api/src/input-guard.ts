/**
 * Limits every JSON input must respect before validation even starts: PostgreSQL cannot store a
 * NUL character in text or jsonb, and deeply nested documents overflow the stack of whatever
 * walks them. Both would otherwise surface as a 500 deep inside a write.
 */
export const MAX_INPUT_DEPTH = 32;

export type InputProblem = { field: string; message: string } | null;

export function findInputProblem(value: unknown, path: string[] = [], depth = 0): InputProblem {
  const field = () => path.join(".") || "(body)";
  if (typeof value === "string") {
    return value.includes("\u0000") ? { field: field(), message: "must not contain NUL (\\u0000) characters" } : null;
  }
  if (value === null || typeof value !== "object") return null;
  if (depth >= MAX_INPUT_DEPTH) return { field: field(), message: `is nested deeper than ${MAX_INPUT_DEPTH} levels` };
  const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value);
  for (const [key, child] of entries) {
    if (key.includes("\u0000")) return { field: field(), message: "has a key with a NUL (\\u0000) character" };
    const problem = findInputProblem(child, [...path, key], depth + 1);
    if (problem) return problem;
  }
  return null;
}
