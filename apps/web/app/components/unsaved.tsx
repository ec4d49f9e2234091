import { useBeforeUnload, useBlocker, useLocation, useNavigation } from "@remix-run/react";
import { type RefObject, useCallback, useEffect, useRef, useState } from "react";

/**
 * Unsaved work survives an expired session: drafts live in sessionStorage (this tab only, gone
 * when it closes) under the page's path, are restored when the user comes back to that page (after
 * signing in again, sign-in returns them here through redirectTo), and are dropped once saved.
 */
export function draftKey(pathname: string): string {
  return `apx-draft:${pathname}`;
}

export function readDraft<T>(key: string): T | null {
  try {
    const raw = window.sessionStorage.getItem(key);
    return raw ? (JSON.parse(raw) as T) : null;
  } catch {
    return null;
  }
}

export function writeDraft(key: string, value: unknown): void {
  try {
    window.sessionStorage.setItem(key, JSON.stringify(value));
  } catch {
    // Storage full or disabled (private mode): the leave warning still protects the draft.
  }
}

export function dropDraft(key: string): void {
  try {
    window.sessionStorage.removeItem(key);
  } catch {
    // as above
  }
}

/**
 * True once a submit of this page has been answered by a redirect to another page (not sign-in):
 * the draft was saved. A refused submit stays on the page with the draft kept.
 */
function useSavedByRedirect(): boolean {
  const navigation = useNavigation();
  const location = useLocation();
  return (
    navigation.state === "loading" &&
    navigation.formData !== undefined &&
    navigation.location.pathname !== location.pathname &&
    navigation.location.pathname !== "/sign-in"
  );
}

/**
 * Warns before leaving a page with unsaved changes: the browser's own prompt when the tab closes
 * or reloads, and a dialog of ours for links inside the app (Remix's useBlocker). Submitting the
 * page's own form is never blocked.
 */
export function LeaveGuard({ dirty }: { dirty: boolean }) {
  const navigation = useNavigation();
  const submitting = navigation.state === "submitting" || navigation.formData !== undefined;
  const blocker = useBlocker(
    useCallback(
      ({ currentLocation, nextLocation }: { currentLocation: { pathname: string }; nextLocation: { pathname: string } }) =>
        dirty && !submitting && currentLocation.pathname !== nextLocation.pathname && nextLocation.pathname !== "/sign-in",
      [dirty, submitting],
    ),
  );
  useBeforeUnload(
    useCallback(
      (event: BeforeUnloadEvent) => {
        if (!dirty || submitting) return;
        event.preventDefault();
        event.returnValue = "";
      },
      [dirty, submitting],
    ),
  );
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    if (blocker.state === "blocked" && !ref.current?.open) ref.current?.showModal();
    if (blocker.state !== "blocked" && ref.current?.open) ref.current.close();
  }, [blocker.state]);
  return (
    <dialog ref={ref} aria-labelledby="leave-title" onCancel={() => blocker.reset?.()}>
      <div className="card-body">
        <h2 id="leave-title">Leave without saving?</h2>
        <p>Your changes on this page are not saved yet. If you leave, they stay in this tab until you come back or close it.</p>
        <div className="form-actions" style={{ marginTop: 18 }}>
          <button type="button" className="btn" autoFocus onClick={() => blocker.reset?.()}>
            Stay on this page
          </button>
          <button type="button" className="btn btn-danger-solid" onClick={() => blocker.proceed?.()}>
            Leave
          </button>
        </div>
      </div>
    </dialog>
  );
}

type FormValues = Record<string, string[]>;

function readForm(form: HTMLFormElement): FormValues {
  const out: FormValues = {};
  for (const el of Array.from(form.elements)) {
    if (!(el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement || el instanceof HTMLSelectElement)) continue;
    if (!el.name || el.type === "hidden" || el.type === "password" || el.type === "file" || el.type === "submit") continue;
    if ((el.type === "checkbox" || el.type === "radio") && !(el as HTMLInputElement).checked) {
      out[el.name] ??= [];
      continue;
    }
    (out[el.name] ??= []).push(el.value);
  }
  return out;
}

function fillForm(form: HTMLFormElement, values: FormValues): void {
  for (const el of Array.from(form.elements)) {
    if (!(el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement || el instanceof HTMLSelectElement)) continue;
    const saved = values[el.name];
    if (!saved) continue;
    if (el instanceof HTMLInputElement && (el.type === "checkbox" || el.type === "radio")) el.checked = saved.includes(el.value);
    else if (el.type !== "hidden" && el.type !== "password" && el.type !== "file") el.value = saved[0] ?? "";
  }
}

/**
 * Draft keeping for a plain (uncontrolled) form: every change is written to sessionStorage,
 * restored on return, dropped when `saved` turns true or a submit redirects elsewhere.
 * Returns what the form needs: an onChange handler, whether it is dirty, and the notice to show.
 */
export function useFormDraft(formRef: RefObject<HTMLFormElement>, saved: boolean) {
  const location = useLocation();
  const key = draftKey(location.pathname);
  const [dirty, setDirty] = useState(false);
  const [restored, setRestored] = useState(false);
  const savedByRedirect = useSavedByRedirect();

  useEffect(() => {
    // A page re-mounted by its own successful save has nothing to restore.
    const draft = saved ? null : readDraft<FormValues>(key);
    if (draft && formRef.current) {
      fillForm(formRef.current, draft);
      setDirty(true);
      setRestored(true);
    }
    // Restore once, when the page mounts.
  }, [key, formRef]);

  useEffect(() => {
    if (saved || savedByRedirect) {
      dropDraft(key);
      setDirty(false);
      setRestored(false);
    }
  }, [saved, savedByRedirect, key]);

  const onChange = useCallback(() => {
    if (!formRef.current) return;
    writeDraft(key, readForm(formRef.current));
    setDirty(true);
  }, [formRef, key]);

  const discard = useCallback(() => {
    dropDraft(key);
    formRef.current?.reset();
    setDirty(false);
    setRestored(false);
  }, [formRef, key]);

  return { dirty, restored, onChange, discard, key };
}

/** Same as useFormDraft for a form whose state lives in React (the matrix editor). */
export function useStateDraft<T>(value: T, initial: T, restore: (saved: T) => void, saved: boolean) {
  const location = useLocation();
  const key = draftKey(location.pathname);
  const savedByRedirect = useSavedByRedirect();
  const [restored, setRestored] = useState(false);
  const initialJson = useRef(JSON.stringify(initial));
  const json = JSON.stringify(value);
  const dirty = json !== initialJson.current;

  useEffect(() => {
    const draft = saved ? null : readDraft<T>(key);
    if (draft && JSON.stringify(draft) !== initialJson.current) {
      restore(draft);
      setRestored(true);
    }
    // Restore once, when the page mounts.
  }, [key]);

  useEffect(() => {
    if (saved || savedByRedirect) {
      dropDraft(key);
      initialJson.current = json;
      setRestored(false);
    } else if (dirty) writeDraft(key, value);
    // `json` stands for `value`.
  }, [json, saved, savedByRedirect, key]);

  return { dirty: dirty && !saved, restored, key };
}

export function RestoredNotice({ onDiscard }: { onDiscard?: () => void }) {
  return (
    <div className="alert alert-info" role="status" data-testid="draft-restored">
      <div>
        Your unsaved changes were restored.{" "}
        {onDiscard ? (
          <button type="button" className="btn-link" onClick={onDiscard}>
            Discard them
          </button>
        ) : null}
      </div>
    </div>
  );
}
