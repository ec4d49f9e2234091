import { findLoneSurrogate } from "@approvalmatrix/core";

/**
 * Limits every JSON input must respect before validation even starts: PostgreSQL cannot store a
 * NUL character in text or jsonb nor a lone UTF-16 surrogate in jsonb (a text column silently turns
 * it into U+FFFD), and deeply nested documents overflow the stack of whatever walks them. All
 * would otherwise surface as a 500 deep inside a write, or as silently altered text.
 */
export const MAX_INPUT_DEPTH = 32;

export type InputProblem = { field: string; message: string } | null;

export function findInputProblem(value: unknown, path: string[] = [], depth = 0): InputProblem {
  const field = () => path.join(".") || "(body)";
  if (typeof value === "string") return textProblem(value, field(), "must");
  if (value === null || typeof value !== "object") return null;
  if (depth >= MAX_INPUT_DEPTH) return { field: field(), message: `is nested deeper than ${MAX_INPUT_DEPTH} levels` };
  const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value);
  for (const [key, child] of entries) {
    // Named by its parent: the offending key itself is not fit to echo.
    const keyProblem = textProblem(key, field(), "has a key that must");
    if (keyProblem) return keyProblem;
    // JSON.parse makes "__proto__" an own key, but the first plain-object copy (zod's record parse
    // among them) turns it into a prototype assignment: the data would vanish or leak into lookups.
    if (key === "__proto__") return { field: [...path, key].join("."), message: "is a reserved name and cannot be stored as data" };
    const problem = findInputProblem(child, [...path, key], depth + 1);
    if (problem) return problem;
  }
  return null;
}

function textProblem(text: string, field: string, subject: string): InputProblem {
  if (text.includes("\u0000")) return { field, message: `${subject} not contain NUL (\\u0000) characters` };
  const at = findLoneSurrogate(text);
  if (at !== -1) {
    const unit = text.charCodeAt(at).toString(16);
    return { field, message: `${subject} be well-formed Unicode: lone surrogate \\u${unit} at position ${at}` };
  }
  return null;
}
