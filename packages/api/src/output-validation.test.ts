import { TRPCError, initTRPC } from "@trpc/server";
import { type OpenApiMeta, generateOpenApiDocument } from "trpc-to-openapi";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { skipOutputValidation } from "./output-validation";

/** A router of its own (the shared appRouter stays untouched): one procedure answers off its schema. */
function buildRouter() {
  const t = initTRPC.meta<OpenApiMeta>().create();
  const router = t.router({
    wrong: t.procedure
      .meta({ openapi: { method: "GET", path: "/wrong" } })
      .input(z.void())
      .output(z.object({ id: z.string() }))
      // A bug the type checker cannot see: the shape comes from outside typed code.
      .query(() => JSON.parse('{"id": 42}') as { id: string }),
    right: t.procedure.output(z.object({ ok: z.boolean() })).query(() => ({ ok: true })),
    // No output schema: nothing to remove.
    bare: t.procedure.query(() => "bare"),
  });
  return { router, caller: t.createCallerFactory(router)({}) };
}

describe("skipOutputValidation", () => {
  it("validates outputs until it runs: a wrong shape fails before and passes after", async () => {
    const validating = buildRouter();
    const refused = await validating.caller.wrong().catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(TRPCError);
    expect((refused as TRPCError).message).toBe("Output validation failed");

    const skipping = buildRouter();
    expect(skipOutputValidation(skipping.router)).toBe(2);
    expect(await skipping.caller.wrong()).toEqual({ id: 42 });
    expect(await skipping.caller.right()).toEqual({ ok: true });
    expect(await skipping.caller.bare()).toBe("bare");
    // Once removed there is nothing left to remove.
    expect(skipOutputValidation(skipping.router)).toBe(0);
  });

  it("leaves the output schema in the OpenAPI document", () => {
    const { router } = buildRouter();
    const before = generateOpenApiDocument(router, { title: "t", version: "1", baseUrl: "http://x" });
    skipOutputValidation(router);
    const after = generateOpenApiDocument(router, { title: "t", version: "1", baseUrl: "http://x" });
    const schema = (doc: typeof after) => (doc.paths?.["/wrong"]?.get?.responses?.["200"] as { content: Record<string, unknown> }).content;
    expect(schema(after)).toEqual(schema(before));
    expect(JSON.stringify(schema(after))).toContain('"id":{"type":"string"}');
  });
});
