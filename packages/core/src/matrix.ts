/** Approval-matrix routing: which matrix a request goes to. Pure; the adapters load candidates. */

export type ConditionValue = string | number | boolean;

export type MatrixCondition =
  { field: string; op: "equals"; value: ConditionValue } | { field: string; op: "in"; values: ConditionValue[] };

export interface RoutableMatrix {
  id: string;
  name: string;
  requestType: string;
  /** Inclusive lower bound of the amount band; null = unbounded. */
  minAmount: number | null;
  /** Exclusive upper bound of the amount band; null = unbounded. */
  maxAmount: number | null;
  /** When set, the request's currency must equal it. */
  currency: string | null;
  conditions: MatrixCondition[];
  priority: number;
  active: boolean;
  createdAt: Date;
}

export interface RoutingInput {
  requestType: string;
  amount?: number | null;
  currency?: string | null;
  /**
   * What conditions are evaluated against: the request's metadata over the submitter's profile
   * (so `department` comes from the member when the caller does not send it).
   */
  attributes: Record<string, unknown>;
}

export interface TriedMatrix {
  matrixId: string;
  name: string;
  reason: string;
}

export type MatrixResolution<M extends RoutableMatrix> =
  { matched: true; matrix: M; tried: TriedMatrix[] } | { matched: false; tried: TriedMatrix[]; message: string };

function sameValue(actual: unknown, expected: ConditionValue): boolean {
  if (typeof expected === "string" && typeof actual === "string") {
    return actual.trim().toLowerCase() === expected.trim().toLowerCase();
  }
  if (typeof expected === "number" && typeof actual === "string" && actual.trim() !== "") {
    return Number(actual) === expected;
  }
  return actual === expected;
}

function describe(value: unknown): string {
  return value === undefined ? "missing" : JSON.stringify(value);
}

/** Why `matrix` does not take `input`, or null when it does. */
export function whyMatrixRejects(matrix: RoutableMatrix, input: RoutingInput): string | null {
  if (!matrix.active) return "matrix is inactive";
  if (matrix.requestType !== input.requestType) {
    return `requestType ${describe(input.requestType)} is not ${describe(matrix.requestType)}`;
  }
  const hasBand = matrix.minAmount !== null || matrix.maxAmount !== null;
  if (hasBand && (input.amount === undefined || input.amount === null)) {
    return "amount is required by its amount band";
  }
  const amount = input.amount ?? 0;
  if (matrix.minAmount !== null && amount < matrix.minAmount) {
    return `amount ${amount} is below its minimum ${matrix.minAmount}`;
  }
  if (matrix.maxAmount !== null && amount >= matrix.maxAmount) {
    return `amount ${amount} is not below its maximum ${matrix.maxAmount}`;
  }
  if (matrix.currency !== null && (input.currency ?? "").toUpperCase() !== matrix.currency.toUpperCase()) {
    return `currency ${describe(input.currency ?? undefined)} is not ${describe(matrix.currency)}`;
  }
  for (const condition of matrix.conditions) {
    const actual = input.attributes[condition.field];
    if (condition.op === "equals" && !sameValue(actual, condition.value)) {
      return `${condition.field} ${describe(actual)} is not ${describe(condition.value)}`;
    }
    if (condition.op === "in" && !condition.values.some((value) => sameValue(actual, value))) {
      return `${condition.field} ${describe(actual)} is not one of ${condition.values.map(describe).join(", ")}`;
    }
  }
  return null;
}

/** How narrowly a matrix is drawn: each bound, the currency and each condition count one. */
export function matrixSpecificity(matrix: RoutableMatrix): number {
  return (
    (matrix.minAmount !== null ? 1 : 0) +
    (matrix.maxAmount !== null ? 1 : 0) +
    (matrix.currency !== null ? 1 : 0) +
    matrix.conditions.length
  );
}

/** Highest priority first, then the most specific, then the oldest; id settles the rest. */
export function compareMatrices(a: RoutableMatrix, b: RoutableMatrix): number {
  return (
    b.priority - a.priority ||
    matrixSpecificity(b) - matrixSpecificity(a) ||
    a.createdAt.getTime() - b.createdAt.getTime() ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  );
}

export function resolveMatrix<M extends RoutableMatrix>(candidates: readonly M[], input: RoutingInput): MatrixResolution<M> {
  const tried: TriedMatrix[] = [];
  const matches: M[] = [];
  for (const matrix of candidates) {
    const reason = whyMatrixRejects(matrix, input);
    if (reason === null) matches.push(matrix);
    else tried.push({ matrixId: matrix.id, name: matrix.name, reason });
  }
  const [best] = matches.sort(compareMatrices);
  if (best) return { matched: true, matrix: best, tried };

  const relevant = tried.filter((t) => !t.reason.startsWith("requestType"));
  const message =
    relevant.length === 0
      ? `No active approval matrix handles requestType ${describe(input.requestType)}.`
      : `No approval matrix matched requestType ${describe(input.requestType)}: ` +
        relevant.map((t) => `"${t.name}" (${t.reason})`).join("; ") +
        ".";
  return { matched: false, tried, message };
}
