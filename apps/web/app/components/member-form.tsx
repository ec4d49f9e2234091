import { Form, Link, useNavigation } from "@remix-run/react";
import { Alert, Field } from "./ui";

export interface MemberFormValues {
  name: string;
  externalRef: string;
  email: string | null;
  department: string | null;
  managerRef: string | null;
  userId: string | null;
}

export function MemberForm({
  values,
  failure,
  users,
  submitLabel,
}: {
  values?: MemberFormValues | undefined;
  failure?: { formError: string; fieldErrors: Record<string, string> } | null | undefined;
  users?: { id: string; email: string; name: string }[] | undefined;
  submitLabel: string;
}) {
  const navigation = useNavigation();
  const busy = navigation.state === "submitting";
  return (
    <Form method="post" noValidate>
      {failure ? (
        <div style={{ marginBottom: 14 }}>
          <Alert kind="error">{failure.formError}</Alert>
        </div>
      ) : null}
      <div className="form-row">
        <Field label="Name" name="name" required defaultValue={values?.name} error={failure?.fieldErrors.name} autoFocus />
        <Field
          label="externalRef"
          name="externalRef"
          required
          defaultValue={values?.externalRef}
          error={failure?.fieldErrors.externalRef}
          hint="Your employee id, unique in this tenant, e.g. EMP-1042."
        />
      </div>
      <div className="form-row">
        <Field label="Email" name="email" type="email" defaultValue={values?.email ?? ""} error={failure?.fieldErrors.email} />
        <Field
          label="Department"
          name="department"
          defaultValue={values?.department ?? ""}
          error={failure?.fieldErrors.department}
          hint="Matrices can route by department."
        />
      </div>
      <div className="form-row">
        <Field
          label="Manager's externalRef"
          name="managerRef"
          defaultValue={values?.managerRef ?? ""}
          error={failure?.fieldErrors.managerRef}
          hint="Used by “manager” stages."
        />
        {users ? (
          <Field
            label="Linked sign-in user"
            name="userId"
            error={failure?.fieldErrors.userId}
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
        <button className="btn btn-primary" type="submit" name="intent" value="save" disabled={busy}>
          {busy ? "Saving…" : submitLabel}
        </button>
      </div>
    </Form>
  );
}

export function readMemberForm(form: FormData) {
  const text = (k: string) => {
    const v = String(form.get(k) ?? "").trim();
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
