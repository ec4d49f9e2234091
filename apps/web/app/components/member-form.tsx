import { Form, Link, useNavigation } from "@remix-run/react";
import { useState } from "react";
import type { MemberDetail } from "../lib/api-types";
import { type FieldSpec, type FormFailureView, useFormErrors } from "./form-errors";
import { LeaveGuard, RestoredNotice, useFormDraft } from "./unsaved";
import { Field, SubmitButton } from "./ui";
import { formText } from "../lib/form";

const MEMBER_FIELDS: Record<string, FieldSpec> = {
  name: { label: "Name", required: "Enter the member's name." },
  externalRef: { label: "externalRef", required: "Enter the member's externalRef, e.g. EMP-1042." },
  email: { label: "Email" },
  department: { label: "Department" },
  managerRef: { label: "Manager" },
  userId: { label: "Linked sign-in user" },
};

/** The member fields the form edits, as `admin.members.get` returns them. */
export type MemberFormValues = Pick<MemberDetail, "name" | "externalRef" | "email" | "department" | "managerRef" | "userId"> & {
  syncedFrom?: string | null | undefined;
};

export function MemberForm({
  values,
  failure,
  users,
  submitLabel,
  saved = false,
}: {
  values?: MemberFormValues | undefined;
  failure?: FormFailureView | null | undefined;
  users?: { id: string; email: string; name: string }[] | undefined;
  submitLabel: string;
  /** True right after these values were saved: the stored draft is dropped. */
  saved?: boolean;
}) {
  const navigation = useNavigation();
  const busy = navigation.state === "submitting";
  const form = useFormErrors(failure, MEMBER_FIELDS);
  const draft = useFormDraft(form.formRef, saved);
  // The manager picker: suggestions by name or externalRef as the admin types.
  const [suggestions, setSuggestions] = useState<{ id: string; name: string; externalRef: string }[]>([]);
  async function suggest(q: string) {
    if (q.trim().length < 2) return setSuggestions([]);
    const res = await fetch(`/members/lookup?${new URLSearchParams({ q }).toString()}`).catch(() => null);
    if (res?.ok) setSuggestions((await res.json()) as typeof suggestions);
  }
  // A member synced from an identity provider: the provider owns these fields.
  const locked = Boolean(values?.syncedFrom);
  const syncedHint = locked ? `Synced from ${values?.syncedFrom ?? ""}: change it there.` : undefined;
  return (
    <Form
      method="post"
      noValidate
      ref={form.formRef}
      onChange={(e) => {
        form.onChange(e);
        draft.onChange();
      }}
    >
      <LeaveGuard dirty={draft.dirty} />
      {draft.restored ? (
        <div style={{ marginBottom: 14 }}>
          <RestoredNotice onDiscard={draft.discard} />
        </div>
      ) : null}
      {form.summary ? <div style={{ marginBottom: 14 }}>{form.summary}</div> : null}
      <div className="form-row">
        <Field
          label="Name"
          name="name"
          required
          defaultValue={values?.name}
          error={form.error("name")}
          autoFocus={!values}
          readOnly={locked}
          hint={syncedHint}
        />
        <Field
          label="externalRef"
          name="externalRef"
          required
          defaultValue={values?.externalRef}
          error={form.error("externalRef")}
          readOnly={locked}
          hint={syncedHint ?? "Your employee id, unique in this tenant, e.g. EMP-1042."}
        />
      </div>
      <div className="form-row">
        <Field
          label="Email"
          name="email"
          type="email"
          defaultValue={values?.email ?? ""}
          error={form.error("email")}
          readOnly={locked}
          hint={syncedHint}
        />
        <Field
          label="Department"
          name="department"
          defaultValue={values?.department ?? ""}
          error={form.error("department")}
          readOnly={locked}
          hint={syncedHint ?? "Matrices can route by department."}
        />
      </div>
      <div className="form-row">
        <Field
          label="Manager"
          name="managerRef"
          defaultValue={values?.managerRef ?? ""}
          error={form.error("managerRef")}
          readOnly={locked}
          list="manager-options"
          autoComplete="off"
          placeholder="Type a name or externalRef"
          onInput={(e) => void suggest(e.currentTarget.value)}
          hint={syncedHint ?? "Used by “manager” stages. Pick from the suggestions, or type an externalRef."}
        />
        <datalist id="manager-options" data-testid="manager-options">
          {suggestions.map((m) => (
            <option key={m.id} value={m.externalRef} label={`${m.name} (${m.externalRef})`}>
              {m.name}
            </option>
          ))}
        </datalist>
        {users ? (
          <Field
            label="Linked sign-in user"
            name="userId"
            error={form.error("userId")}
            hint="This member decides in the admin app as this user."
          >
            <select name="userId" defaultValue={values?.userId ?? ""} id="userId">
              <option value="">No sign-in</option>
              {users.map((u) => (
                <option key={u.id} value={u.id}>
                  {u.name} ({u.email})
                </option>
              ))}
            </select>
          </Field>
        ) : null}
      </div>
      <div className="form-actions">
        <Link className="btn" to="/members">
          Cancel
        </Link>
        <SubmitButton busy={busy} busyLabel="Saving…" name="intent" value="save">
          {submitLabel}
        </SubmitButton>
      </div>
    </Form>
  );
}

export function readMemberForm(form: FormData) {
  const text = (k: string) => {
    const v = formText(form, k).trim();
    return v === "" ? null : v;
  };
  return {
    name: text("name") ?? "",
    externalRef: text("externalRef") ?? "",
    email: text("email"),
    department: text("department"),
    managerRef: text("managerRef"),
    userId: text("userId"),
  };
}
