import { describe, expect, it } from "vitest";
import { MAX_INPUT_DEPTH, findInputProblem } from "./input-guard";

const nest = (levels: number): unknown => (levels === 0 ? 1 : { a: nest(levels - 1) });

describe("findInputProblem", () => {
  it.each([
    ["plain input", { title: "ok", metadata: { a: [1, "b", null, true] } }, null],
    ["a NUL in a string", { title: "a\u0000b" }, "title"],
    ["a NUL deep in metadata", { metadata: { list: ["x", "y\u0000"] } }, "metadata.list.1"],
    ["a NUL in a key", { metadata: { "k\u0000": 1 } }, "metadata"],
    ["a lone surrogate in a string", { title: "ok\udfff" }, "title"],
    ["a lone surrogate deep in metadata", { metadata: { list: ["\ud83d"] } }, "metadata.list.0"],
    ["a lone surrogate in a key", { metadata: { "k\udfff": 1 } }, "metadata"],
    ["a __proto__ key", JSON.parse('{"metadata":{"__proto__":{"department":"Finance"}}}') as unknown, "metadata.__proto__"],
    ["keys named like Object.prototype's", { metadata: { constructor: 1, toString: "x", hasOwnProperty: null } }, null],
    ["a surrogate pair (an emoji)", { title: "ok 😀", metadata: { "😀": "😀" } }, null],
    ["nesting at the limit", nest(MAX_INPUT_DEPTH), null],
    ["nesting past the limit", nest(MAX_INPUT_DEPTH + 1), "a."],
  ] as const)("%s", (_name, input, field) => {
    const problem = findInputProblem(input);
    if (field === null) expect(problem).toBeNull();
    else expect(problem?.field.startsWith(field)).toBe(true);
  });

  it("survives documents far deeper than the stack would allow", () => {
    expect(findInputProblem(JSON.parse("[".repeat(5000) + "]".repeat(5000)))?.message).toContain("nested deeper");
  });
});
