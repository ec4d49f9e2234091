import { describe, expect, it } from "vitest";
import { type RoutableMatrix, type RoutingInput, matrixSpecificity, resolveMatrix, whyMatrixRejects } from "./matrix";

let seq = 0;
function matrix(overrides: Partial<RoutableMatrix> = {}): RoutableMatrix {
  seq += 1;
  return {
    id: `mat_${seq}`,
    name: `Matrix ${seq}`,
    requestType: "purchase_order",
    minAmount: null,
    maxAmount: null,
    currency: null,
    conditions: [],
    priority: 0,
    active: true,
    createdAt: new Date(2025, 0, seq),
    ...overrides,
  };
}

const request = (overrides: Partial<RoutingInput> = {}): RoutingInput => ({
  requestType: "purchase_order",
  amount: 4500,
  currency: "USD",
  attributes: { department: "Engineering" },
  ...overrides,
});

describe("whyMatrixRejects", () => {
  const cases: [string, Partial<RoutableMatrix>, Partial<RoutingInput>, string | null][] = [
    ["same type, no constraints", {}, {}, null],
    ["other request type", { requestType: "time_off" }, {}, "requestType"],
    ["inactive", { active: false }, {}, "inactive"],
    ["amount equal to the minimum is inside (inclusive)", { minAmount: 4500 }, {}, null],
    ["amount below the minimum", { minAmount: 5000 }, {}, "below its minimum"],
    ["amount equal to the maximum is outside (exclusive)", { maxAmount: 4500 }, {}, "not below its maximum"],
    ["amount just under the maximum", { maxAmount: 4500.01 }, {}, null],
    ["band needs an amount", { maxAmount: 10000 }, { amount: null }, "amount is required"],
    ["no band, no amount is fine", {}, { amount: undefined }, null],
    ["currency must equal when set", { currency: "EUR" }, {}, "currency"],
    ["currency compares case-insensitively", { currency: "usd" }, {}, null],
    ["matrix without currency takes any", {}, { currency: "JPY" }, null],
    ["equals condition holds", { conditions: [{ field: "department", op: "equals", value: "Engineering" }] }, {}, null],
    ["equals ignores case and spaces", { conditions: [{ field: "department", op: "equals", value: " engineering" }] }, {}, null],
    ["equals fails", { conditions: [{ field: "department", op: "equals", value: "Finance" }] }, {}, "department"],
    ["one-of holds", { conditions: [{ field: "department", op: "in", values: ["Engineering", "IT"] }] }, {}, null],
    ["one-of fails", { conditions: [{ field: "department", op: "in", values: ["Sales", "IT"] }] }, {}, "not one of"],
    ["missing attribute fails", { conditions: [{ field: "costCenter", op: "equals", value: "CC-1" }] }, {}, "missing"],
    [
      "numeric condition matches a numeric string",
      { conditions: [{ field: "level", op: "equals", value: 3 }] },
      { attributes: { level: "3" } },
      null,
    ],
    ["boolean condition", { conditions: [{ field: "capex", op: "equals", value: true }] }, { attributes: { capex: true } }, null],
    [
      "every condition must hold",
      {
        conditions: [
          { field: "department", op: "equals", value: "Engineering" },
          { field: "capex", op: "equals", value: true },
        ],
      },
      {},
      "capex",
    ],
  ];
  it.each(cases)("%s", (_name, m, r, expected) => {
    const reason = whyMatrixRejects(matrix(m), request(r));
    if (expected === null) expect(reason).toBeNull();
    else expect(reason).toContain(expected);
  });
});

describe("resolveMatrix", () => {
  it("picks the highest priority among matches", () => {
    const low = matrix({ priority: 1 });
    const high = matrix({ priority: 5 });
    const nonMatching = matrix({ priority: 99, requestType: "time_off" });
    const result = resolveMatrix([low, nonMatching, high], request());
    expect(result).toMatchObject({ matched: true, matrix: { id: high.id } });
  });

  it("breaks priority ties on the most specific matrix", () => {
    const broad = matrix();
    const narrow = matrix({ maxAmount: 10000, conditions: [{ field: "department", op: "equals", value: "Engineering" }] });
    expect(matrixSpecificity(narrow)).toBe(2);
    const result = resolveMatrix([broad, narrow], request());
    expect(result.matched && result.matrix.id).toBe(narrow.id);
  });

  it("breaks remaining ties on the oldest matrix", () => {
    const older = matrix({ createdAt: new Date("2024-01-01") });
    const newer = matrix({ createdAt: new Date("2025-01-01") });
    const result = resolveMatrix([newer, older], request());
    expect(result.matched && result.matrix.id).toBe(older.id);
  });

  it("explains every matrix it tried when nothing matches", () => {
    const small = matrix({ name: "Small POs", maxAmount: 1000 });
    const eng = matrix({ name: "Finance POs", conditions: [{ field: "department", op: "equals", value: "Finance" }] });
    const result = resolveMatrix([small, eng, matrix({ requestType: "time_off" })], request());
    expect(result.matched).toBe(false);
    if (result.matched) return;
    expect(result.message).toContain('"Small POs" (amount 4500 is not below its maximum 1000)');
    expect(result.message).toContain('"Finance POs" (department "Engineering" is not "Finance")');
    expect(result.message).not.toContain("time_off");
    expect(result.tried).toHaveLength(3);
  });

  it("says plainly when no matrix handles the request type at all", () => {
    const result = resolveMatrix([matrix()], request({ requestType: "laptop" }));
    expect(result).toMatchObject({ matched: false, message: 'No active approval matrix handles requestType "laptop".' });
  });

  it("returns no match for an empty candidate list", () => {
    expect(resolveMatrix([], request()).matched).toBe(false);
  });
});
