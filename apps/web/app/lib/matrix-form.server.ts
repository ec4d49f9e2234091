import { attempt, formFailure } from "./api-errors.server";
import { formText } from "./form";

/** Parses the editor's JSON payload and saves it; field errors come back keyed like the form's. */
export async function saveMatrixAction<T extends { id: string }>(form: FormData, save: (matrix: never) => Promise<T>, stripPrefix = "") {
  let matrix: unknown;
  try {
    matrix = JSON.parse(formText(form, "matrix"));
  } catch {
    return { ok: false as const, failure: formFailure("The matrix could not be read. Reload the page and try again.") };
  }
  const result = await attempt(() => save(matrix as never));
  if (!result.ok) {
    if (stripPrefix) {
      const errors = result.failure.data.fieldErrors;
      for (const [key, message] of Object.entries(errors)) {
        if (key.startsWith(stripPrefix)) errors[key.slice(stripPrefix.length)] = message;
      }
    }
    return { ok: false as const, failure: result.failure };
  }
  return { ok: true as const, id: result.value.id };
}
