import type { AnyRouter } from "@trpc/server";

/** What this module reads of a procedure: tRPC keeps its middleware chain on `_def` and reads it on every call. */
interface ProcedureChain {
  _def: { middlewares: { _type?: string }[] };
}

/**
 * Removes the output-validation step (the middleware tRPC adds for `.output(schema)`, marked
 * `_type: "output"`) from every procedure of `router`, in place, and answers how many it removed.
 * The schemas stay on `_def.output`, so the OpenAPI document and the client types are unchanged.
 * Production calls this once at start-up (VALIDATE_OUTPUT=false): the procedures build their answers
 * from typed code, and apps/web/test/openapi-conformance.test.ts checks, with validation off, that
 * every endpoint's answers match the document; tests and development keep validating every answer.
 */
export function skipOutputValidation(router: AnyRouter): number {
  let removed = 0;
  for (const procedure of Object.values(router._def.procedures as Record<string, ProcedureChain>)) {
    const chain = procedure._def.middlewares;
    for (let i = chain.length - 1; i >= 0; i--) {
      if (chain[i]?._type !== "output") continue;
      chain.splice(i, 1);
      removed++;
    }
  }
  return removed;
}
