import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useLoaderData, useRevalidator } from "@remix-run/react";
import { Fragment, useState } from "react";
import { Alert, PageHead, DataTable, formatDate, StatusBadge } from "../components/ui";
import {
  MEMBER_CSV_COLUMNS,
  MEMBER_IMPORT_MAX_BYTES as MAX_IMPORT_BYTES,
  type MemberCsvColumn,
  guessColumnMapping,
} from "@approvalmatrix/core/members";
import type { MemberImportPreview, MemberImportResult } from "../lib/api-types";
import { requireUser } from "../lib/session.server";

export const meta: MetaFunction = () => [{ title: "Import members · ApprovalMatrix" }];

export async function loader({ request, context }: LoaderFunctionArgs) {
  const { api } = requireUser(request, context, "admin");
  return { history: await api.admin.members.importHistory() };
}

type State =
  | { step: "idle" }
  | { step: "running"; phase: string; percent: number; fileName: string; previewing: boolean }
  | { step: "previewed"; preview: MemberImportPreview; fileName: string }
  | { step: "done"; result: MemberImportResult; fileName: string }
  | { step: "failed"; failure: Failure };

/** Why an upload ended without a result, in words for the admin. */
interface Failure {
  title: string;
  message: string;
  signIn?: boolean;
}

const TOO_LARGE: Failure = {
  title: "Nothing was imported",
  message: "The file is larger than 50 MB. Split it into smaller files and import them one at a time.",
};

/** The import is all or nothing and leaves unchanged rows alone, so sending the same file again is always safe. */
function interrupted(cause: string): Failure {
  return {
    title: "The import did not finish",
    message: `${cause} It may or may not have been saved: import the file again to be sure (rows already up to date are left as they are).`,
  };
}

/** A response that is not the import's NDJSON stream: the route refused the file, or something in between answered. */
function refusal(response: Response): Failure {
  // fetch follows the route's redirect to sign-in; a proxy may answer 401 instead.
  if (response.redirected || response.status === 401)
    return { title: "Nothing was imported", message: "Your session has expired. Sign in again, then import the file again.", signIn: true };
  if (response.status === 403) return { title: "Nothing was imported", message: "Only tenant admins can import members." };
  if (response.status === 413) return TOO_LARGE;
  return interrupted(
    response.ok ? "The server's answer could not be read." : `The server answered with an error (HTTP ${response.status}).`,
  );
}

const PHASE_LABEL: Record<string, string> = {
  uploading: "Uploading",
  validating: "Checking every row",
  comparing: "Comparing with your members",
  writing: "Saving members",
};

const FIELD_LABEL: Record<string, string> = {
  name: "name",
  email: "email",
  department: "department",
  managerRef: "manager",
  active: "active",
};

/** The header row of a CSV file, read in the browser (quoted cells allowed). */
async function readHeader(file: File): Promise<string[]> {
  const text = (await file.slice(0, 65_536).text()).replace(/^\uFEFF/, "");
  const cells: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charAt(i);
    if (quoted) {
      if (c === '"' && text.charAt(i + 1) === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      cells.push(cell.trim());
      cell = "";
    } else if (c === "\n" || c === "\r") break;
    else cell += c;
  }
  cells.push(cell.trim());
  return cells.filter((c) => c !== "");
}

const SAMPLE_CSV = ["externalRef,name,email,department,managerRef,active", "EMP-1042,Alex Kim,alex@acme.example,Engineering,EMP-2001,true"];

function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

export default function ImportMembers() {
  const { history } = useLoaderData<typeof loader>();
  const revalidator = useRevalidator();
  const [state, setState] = useState<State>({ step: "idle" });
  const [file, setFile] = useState<File | null>(null);
  const [headers, setHeaders] = useState<string[]>([]);
  const [mapping, setMapping] = useState<Partial<Record<MemberCsvColumn, string>>>({});
  const [deactivateMissing, setDeactivateMissing] = useState(false);

  async function choose(chosen: File | null) {
    setFile(chosen);
    setState({ step: "idle" });
    const found = chosen ? await readHeader(chosen) : [];
    setHeaders(found);
    setMapping(guessColumnMapping(found));
  }

  async function run(previewing: boolean) {
    if (!file) return;
    if (file.size > MAX_IMPORT_BYTES) return setState({ step: "failed", failure: TOO_LARGE });
    setState({ step: "running", phase: "uploading", percent: 2, fileName: file.name, previewing });
    const query = new URLSearchParams({ mode: previewing ? "preview" : "apply", fileName: file.name });
    if (deactivateMissing) query.set("deactivateMissing", "1");
    for (const [column, header] of Object.entries(mapping)) if (header) query.set(`map.${column}`, header);
    let response: Response;
    try {
      response = await fetch(`/members/import-stream?${query.toString()}`, {
        method: "POST",
        body: file,
        headers: { "Content-Type": "text/csv" },
      });
    } catch {
      return setState({ step: "failed", failure: interrupted("The file could not be sent: check your connection.") });
    }
    if (response.redirected || !response.ok || !response.body || !response.headers.get("content-type")?.includes("ndjson"))
      return setState({ step: "failed", failure: refusal(response) });
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    let cause = "The connection to the server was lost before the import finished.";
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let newline: number;
        while ((newline = buffer.indexOf("\n")) >= 0) {
          const line = buffer.slice(0, newline);
          buffer = buffer.slice(newline + 1);
          if (!line) continue;
          const event = JSON.parse(line) as
            | { type: "progress"; phase: string; done: number; total: number }
            | { type: "result"; result: MemberImportResult | MemberImportPreview }
            | null;
          if (event?.type === "progress") {
            // Validation is the first tenth of the bar; comparing or writing the rest.
            const percent = event.phase === "validating" ? 8 : 10 + Math.round((90 * event.done) / Math.max(1, event.total));
            setState({ step: "running", phase: event.phase, percent, fileName: file.name, previewing });
          } else if (event?.type === "result") {
            if (previewing && event.result.ok)
              return setState({ step: "previewed", preview: event.result as MemberImportPreview, fileName: file.name });
            revalidator.revalidate();
            return setState({ step: "done", result: event.result as MemberImportResult, fileName: file.name });
          } else throw new SyntaxError("Not a line of the import stream");
        }
      }
    } catch (error) {
      // The connection dropped mid-stream, or a line was not one the route sends.
      if (error instanceof SyntaxError) cause = "The server's answer could not be read.";
    }
    void reader.cancel().catch(() => {});
    setState({ step: "failed", failure: interrupted(cause) });
  }

  const running = state.step === "running";
  const n = (value: number) => value.toLocaleString("en-US");

  return (
    <>
      <PageHead
        title="Import members"
        crumbs={<Link to="/members">Members</Link>}
        description="Upload a CSV file to add members and update existing ones, matched by externalRef. You see what it will change first; then it is applied whole or not at all."
      />
      <div className="grid-main-side">
        <div className="stack">
          <div className="card">
            <div className="card-body stack">
              <div className="field">
                <label htmlFor="csv-file">CSV file</label>
                <input id="csv-file" type="file" accept=".csv,text/csv" onChange={(e) => void choose(e.currentTarget.files?.[0] ?? null)} />
                <span className="hint">UTF-8, comma-separated, with a header row. Up to 200 000 rows.</span>
              </div>
              {file && headers.length ? (
                <fieldset className="stack" data-testid="column-mapping">
                  <legend>Columns</legend>
                  <div className="form-row">
                    {MEMBER_CSV_COLUMNS.map((column) => (
                      <div className="field" key={column}>
                        <label htmlFor={`map-${column}`}>
                          {column}
                          {column === "externalRef" || column === "name" ? " *" : ""}
                        </label>
                        <select
                          id={`map-${column}`}
                          value={mapping[column] ?? ""}
                          onChange={(e) => {
                            const header = e.currentTarget.value;
                            setMapping((m) => ({ ...m, [column]: header || undefined }));
                            setState({ step: "idle" });
                          }}
                        >
                          <option value="">(not in the file)</option>
                          {headers.map((h) => (
                            <option key={h} value={h}>
                              {h}
                            </option>
                          ))}
                        </select>
                      </div>
                    ))}
                  </div>
                </fieldset>
              ) : null}
              <label className="row small">
                <input
                  type="checkbox"
                  checked={deactivateMissing}
                  onChange={(e) => {
                    setDeactivateMissing(e.currentTarget.checked);
                    setState({ step: "idle" });
                  }}
                />{" "}
                Deactivate members missing from this file (members synced from an identity provider are never deactivated by an import)
              </label>
              <div className="row">
                <button className="btn btn-primary" type="button" disabled={!file || running} onClick={() => void run(true)}>
                  {running && state.previewing ? "Checking…" : "Preview changes"}
                </button>
                {file ? (
                  <span className="muted small">
                    {file.name} · {formatSize(file.size)}
                  </span>
                ) : null}
              </div>
              {state.step === "running" ? (
                <div aria-live="polite">
                  <div className="row small muted" style={{ justifyContent: "space-between", marginBottom: 6 }}>
                    <span>{PHASE_LABEL[state.phase] ?? state.phase}…</span>
                    <span>{state.percent}%</span>
                  </div>
                  <div
                    className="progress"
                    role="progressbar"
                    aria-valuemin={0}
                    aria-valuemax={100}
                    aria-valuenow={state.percent}
                    aria-label={state.previewing ? "Preview progress" : "Import progress"}
                  >
                    <span style={{ width: `${state.percent}%` }} />
                  </div>
                </div>
              ) : null}
              {state.step === "previewed" && state.preview.ok ? (
                <div data-testid="import-preview" className="stack">
                  <Alert kind="info" title="Nothing has changed yet">
                    {state.fileName}: {n(state.preview.rows)} rows. {n(state.preview.created)} to create, {n(state.preview.updated)} to
                    update, {n(state.preview.unchanged)} unchanged
                    {deactivateMissing ? `, ${n(state.preview.deactivated)} to deactivate` : ""}.
                  </Alert>
                  {state.preview.updated ? (
                    <p className="small">
                      Changed fields:{" "}
                      {Object.entries(state.preview.fieldCounts)
                        .filter(([, count]) => count > 0)
                        .map(([field, count]) => `${FIELD_LABEL[field] ?? field} (${n(count)})`)
                        .join(", ")}
                    </p>
                  ) : null}
                  {state.preview.changes.length ? (
                    <DataTable
                      label="Members to update"
                      columns={["Line", "externalRef", "Changes"]}
                      card
                      style={{ maxHeight: 280, overflowY: "auto" }}
                    >
                      {state.preview.changes.map((c) => (
                        <tr key={c.line}>
                          <td>{c.line}</td>
                          <td>
                            <code>{c.externalRef}</code>
                          </td>
                          <td>{c.fields.map((f) => FIELD_LABEL[f] ?? f).join(", ")}</td>
                        </tr>
                      ))}
                    </DataTable>
                  ) : null}
                  {state.preview.deactivations.length ? (
                    <DataTable
                      label="Members to deactivate"
                      columns={["externalRef", "Name"]}
                      card
                      style={{ maxHeight: 200, overflowY: "auto" }}
                    >
                      {state.preview.deactivations.map((d) => (
                        <tr key={d.externalRef}>
                          <td>
                            <code>{d.externalRef}</code>
                          </td>
                          <td>{d.name}</td>
                        </tr>
                      ))}
                    </DataTable>
                  ) : null}
                  <div className="row">
                    <button className="btn btn-primary" type="button" onClick={() => void run(false)}>
                      Apply import
                    </button>
                    <button className="btn" type="button" onClick={() => setState({ step: "idle" })}>
                      Cancel
                    </button>
                  </div>
                </div>
              ) : null}
              {state.step === "failed" ? (
                <div data-testid="import-result">
                  <Alert kind="error" title={state.failure.title}>
                    {state.failure.message}{" "}
                    {state.failure.signIn ? <Link to="/sign-in?redirectTo=%2Fmembers%2Fimport">Sign in</Link> : null}
                  </Alert>
                </div>
              ) : null}
              {state.step === "done" && state.result.ok ? (
                <div data-testid="import-result">
                  <Alert kind="ok" title="Import complete">
                    {n(state.result.rows)} rows imported: {n(state.result.created)} new, {n(state.result.updated)} updated,{" "}
                    {n(state.result.unchanged)} unchanged
                    {state.result.deactivated ? `, ${n(state.result.deactivated)} deactivated` : ""}.{" "}
                    <Link to="/members">View members</Link>
                  </Alert>
                </div>
              ) : null}
              {(state.step === "done" || state.step === "previewed") && !(state.step === "done" ? state.result : state.preview).ok ? (
                <ImportErrors
                  result={(state.step === "done" ? state.result : state.preview) as Extract<MemberImportResult, { ok: false }>}
                  fileName={state.fileName}
                />
              ) : null}
            </div>
          </div>
          <div className="card">
            <div className="card-head">
              <h2>Import history</h2>
            </div>
            {history.length === 0 ? (
              <div className="card-body muted small">No imports yet.</div>
            ) : (
              <DataTable label="Import history" columns={["When", "Who", "File", "Result"]}>
                {history.map((h) => (
                  <tr key={h.id}>
                    <td className="small">{formatDate(h.createdAt)}</td>
                    <td className="small">{h.actorName ?? (h.actorType === "operator" ? "Setup (CLI)" : h.actorId)}</td>
                    <td className="small">{h.fileName ?? <span className="faint">—</span>}</td>
                    <td className="small">
                      <StatusBadge status={h.status === "applied" ? "approved" : "rejected"} />{" "}
                      {h.status === "applied"
                        ? `${n(h.rows)} rows: ${n(h.created)} new, ${n(h.updated)} updated, ${n(h.unchanged)} unchanged, ${n(h.deactivated)} deactivated`
                        : `${n(h.errorCount)} problem${h.errorCount === 1 ? "" : "s"}`}
                      {h.errors.length ? (
                        <details>
                          <summary>Errors</summary>
                          <ul>
                            {h.errors.map((e, i) => (
                              <li key={i}>
                                Line {e.line}, <code>{e.field}</code>: {e.message}
                              </li>
                            ))}
                          </ul>
                        </details>
                      ) : null}
                    </td>
                  </tr>
                ))}
              </DataTable>
            )}
          </div>
        </div>
        <div className="card">
          <div className="card-head">
            <h2>File format</h2>
          </div>
          <div className="card-body stack small">
            <p>
              Columns, in any order; <strong>externalRef</strong> and <strong>name</strong> are required. Other headers (“Employee ID”,
              “Full name”) can be mapped above.
            </p>
            {/* A narrow column wraps the sample after a comma, never inside a value. */}
            <pre className="secret">
              {SAMPLE_CSV.map((line, l) => (
                <span className="csv-line" key={l}>
                  {line.split(",").map((cell, c) => (
                    <Fragment key={c}>
                      {c ? (
                        <>
                          ,<wbr />
                        </>
                      ) : null}
                      <span className="nowrap">{cell}</span>
                    </Fragment>
                  ))}
                </span>
              ))}
            </pre>
            <p className="muted">
              A row whose externalRef already exists updates that member. managerRef may name a member in the same file.{" "}
              <a href="/members/export.csv">Export the current members</a> to start from.
            </p>
          </div>
        </div>
      </div>
    </>
  );
}

function ImportErrors({ result, fileName }: { result: Extract<MemberImportResult, { ok: false }>; fileName: string }) {
  return (
    <div data-testid="import-result" className="stack">
      <Alert kind="error" title="Nothing was imported">
        {result.errorCount.toLocaleString("en-US")} problem{result.errorCount === 1 ? "" : "s"} found in {fileName}. Fix them and upload the
        file again.
        {result.errorCount > result.errors.length ? ` The first ${result.errors.length} are listed.` : ""}
      </Alert>
      <DataTable label="Problems found" columns={["Line", "Column", "Problem"]} card style={{ maxHeight: 360, overflowY: "auto" }}>
        {result.errors.map((e, i) => (
          <tr key={i}>
            <td>{e.line}</td>
            <td>
              <code>{e.field}</code>
            </td>
            <td>{e.message}</td>
          </tr>
        ))}
      </DataTable>
    </div>
  );
}

export { PageError as ErrorBoundary } from "../components/route-error";
