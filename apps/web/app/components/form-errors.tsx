import { type FormEvent, type RefObject, useCallback, useEffect, useMemo, useRef, useState } from "react";

/** What an action returns when it refuses a form (see lib/api-errors.server.ts). */
export interface FormFailureView {
  formError: string;
  fieldErrors: Record<string, string>;
}

/** A form field as people see it: its label (for messages and the summary) and its own wording. */
export interface FieldSpec {
  label: string;
  /** Replaces the generic message for "left empty". */
  required?: string;
  /** Replaces the generic message for "wrong format" (a pattern or an e-mail address). */
  format?: string;
}

/** The id every form control gets from its field name: the error summary links to it. */
export function fieldId(name: string): string {
  return `field-${name.replace(/[^A-Za-z0-9_-]/g, "-")}`;
}

export function errorId(name: string): string {
  return `${fieldId(name)}-error`;
}

/**
 * zod's default messages are for developers ("Too small: expected string to have >=1
 * characters"); this rewrites the ones our schemas produce in words for people, naming the field.
 * Domain messages (already written for people) only get a capital letter and a full stop.
 */
export function humanizeIssue(raw: string, spec: FieldSpec): string {
  const label = spec.label;
  let m: RegExpExecArray | null;
  if (/^Too small: expected string to have >=1 characters?$/.test(raw) || /expected \w+, received (undefined|null)$/.test(raw))
    return spec.required ?? `${label} is required.`;
  if ((m = /^Too small: expected string to have >=(\d+) characters$/.exec(raw))) return `${label} needs at least ${m[1]} characters.`;
  if ((m = /^Too big: expected string to have <=(\d+) characters$/.exec(raw))) return `${label} can be at most ${m[1]} characters long.`;
  if ((m = /^Too small: expected number to be >=(-?[\d.]+)$/.exec(raw))) return `${label} must be ${m[1]} or more.`;
  if ((m = /^Too small: expected number to be >(-?[\d.]+)$/.exec(raw))) return `${label} must be more than ${m[1]}.`;
  if ((m = /^Too big: expected number to be <=(-?[\d.]+)$/.exec(raw))) return `${label} must be ${m[1]} or less.`;
  if ((m = /^Too big: expected number to be <(-?[\d.]+)$/.exec(raw))) return `${label} must be less than ${m[1]}.`;
  if (/^Too small: expected array to have >=1 items?$/.test(raw)) return spec.required ?? `${label}: add at least one.`;
  if ((m = /^Too big: expected array to have <=(\d+) items$/.exec(raw))) return `${label}: at most ${m[1]}.`;
  if (/^Invalid input: expected int, received number$/.test(raw)) return `${label} must be a whole number.`;
  if (/^Invalid input: expected number, received/.test(raw)) return `${label} must be a number.`;
  if (raw === "Invalid email address") return spec.format ?? "Enter an email address like name@example.com.";
  if (/^Invalid string: must match pattern/.test(raw)) return spec.format ?? `${label} is not in the expected format.`;
  if (/^Invalid (input|option)/.test(raw)) return `Check ${label.toLowerCase()}: this value is not accepted.`;
  const text = raw.charAt(0).toUpperCase() + raw.slice(1);
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

/**
 * The server names fields by their API path (`matrix.stages.0.name`, `email`); `toField` maps a
 * path to the form's field name(s), or null when the form has no such field (the message then
 * stays in the summary only).
 */
export type PathMapper = (path: string) => string | string[] | null;

const identity: PathMapper = (path) => path;

/**
 * One form's errors, shared by every form of the app: field messages for people, each shown next
 * to its field (aria-invalid + aria-describedby), a summary that links to them, a message cleared
 * as soon as its field changes, and focus moved to the first invalid field (or the summary) after
 * every refused submit, so keyboard and screen-reader users land where the problem is.
 */
export function useFormErrors(
  failure: FormFailureView | null | undefined,
  fields: Record<string, FieldSpec>,
  toField: PathMapper = identity,
): {
  error: (name: string) => string | undefined;
  clear: (name: string) => void;
  /** Put on the <form>: clears a field's message when its value changes. */
  onChange: (event: FormEvent<HTMLElement>) => void;
  summary: JSX.Element | null;
  formRef: RefObject<HTMLFormElement>;
  summaryRef: RefObject<HTMLDivElement>;
} {
  const errors = useMemo(() => {
    const out: Record<string, string> = {};
    for (const [path, raw] of Object.entries(failure?.fieldErrors ?? {})) {
      const mapped = toField(path);
      // A path the form has no field for keeps its message in the summary, under the path's name.
      for (const name of mapped === null ? [path] : Array.isArray(mapped) ? mapped : [mapped]) {
        const spec = fields[name] ?? { label: name };
        if (!(name in out)) out[name] = humanizeIssue(raw, spec);
      }
    }
    return out;
    // A new failure (a new submit) recomputes; the field specs are static per form.
  }, [failure]);
  const [cleared, setCleared] = useState<Set<string>>(new Set());
  useEffect(() => setCleared(new Set()), [failure]);

  const formRef = useRef<HTMLFormElement>(null);
  const summaryRef = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!failure) return;
    const first = Object.keys(fields).find((name) => name in errors) ?? Object.keys(errors)[0];
    const target = first ? document.getElementById(fieldId(first)) : null;
    (target ?? summaryRef.current)?.focus();
    // Only a new failure moves focus, never a re-render while typing.
  }, [failure]);

  const clear = useCallback((name: string) => setCleared((c) => (c.has(name) ? c : new Set(c).add(name))), []);
  const visible = Object.fromEntries(Object.entries(errors).filter(([name]) => !cleared.has(name)));
  const onChange = useCallback(
    (event: FormEvent<HTMLElement>) => {
      const target = event.target as HTMLElement;
      const name = target.closest("[data-field]")?.getAttribute("data-field") ?? target.getAttribute("name");
      if (name) clear(name);
    },
    [clear],
  );

  const ordered = Object.keys(visible).sort((a, b) => order(fields, a) - order(fields, b));
  const allFixed = failure && Object.keys(errors).length > 0 && ordered.length === 0;
  const summary =
    failure && !allFixed ? (
      <div className="alert alert-error form-summary" role="alert" tabIndex={-1} ref={summaryRef} data-testid="form-error">
        <div>
          <strong>{failure.formError}</strong>
          {ordered.length ? (
            <ul>
              {ordered.map((name) => (
                <li key={name}>
                  {fields[name] ? (
                    <a href={`#${fieldId(name)}`}>
                      {fields[name].label}: {visible[name]}
                    </a>
                  ) : (
                    visible[name]
                  )}
                </li>
              ))}
            </ul>
          ) : null}
        </div>
      </div>
    ) : null;

  return { error: (name) => visible[name], clear, onChange, summary, formRef, summaryRef };
}

function order(fields: Record<string, FieldSpec>, name: string): number {
  const i = Object.keys(fields).indexOf(name);
  return i < 0 ? 1e6 : i;
}

/**
 * Moves focus to a result message when it appears (a save, a revoke), so focus does not drop to
 * the top of the page after a submit; the element needs tabIndex={-1}.
 */
export function useFocusOnResult<T extends HTMLElement = HTMLDivElement>(result: unknown): RefObject<T> {
  const ref = useRef<T>(null);
  useEffect(() => {
    if (result) ref.current?.focus();
  }, [result]);
  return ref;
}
