/**
 * SCIM filters (RFC 7644 §3.4.2.2) parsed into a tree: `userName eq "a" and (active eq true or
 * not (emails.value co "@x"))`, value paths `emails[type eq "work"]`, attribute names with or
 * without their schema URN, case-insensitive operators and attribute names. Hand-written (one
 * small recursive-descent parser) because the SCIM adapter needs the tree itself, to turn it into
 * SQL, and the identity providers' quirks in one place.
 */
import { scimBadRequest } from "./errors";

export const SCIM_COMPARE_OPS = ["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"] as const;
export type ScimCompareOp = (typeof SCIM_COMPARE_OPS)[number];
export type ScimValue = string | number | boolean | null;

export type ScimFilter =
  | { op: "and" | "or"; left: ScimFilter; right: ScimFilter }
  | { op: "not"; filter: ScimFilter }
  | { op: "pr"; attr: string }
  | { op: ScimCompareOp; attr: string; value: ScimValue }
  /** `emails[type eq "work"]`: the inner filter's attributes are relative to `attr`. */
  | { op: "valuePath"; attr: string; filter: ScimFilter };

export const SCIM_USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User";
export const SCIM_GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group";
export const SCIM_ENTERPRISE_USER_SCHEMA = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/**
 * One spelling for an attribute path: lower case, the core schema's URN dropped, an extension's
 * URN kept with a colon before the attribute ("urn:…:enterprise:2.0:user:manager.value").
 * "urn:ietf:params:scim:schemas:core:2.0:User:userName" and "USERNAME" are both "username".
 */
export function normalizeAttrPath(raw: string): string {
  const lower = raw.toLowerCase();
  for (const core of [SCIM_USER_SCHEMA, SCIM_GROUP_SCHEMA]) {
    const prefix = `${core.toLowerCase()}:`;
    if (lower.startsWith(prefix)) return lower.slice(prefix.length);
  }
  return lower;
}

interface Token {
  kind: "word" | "string" | "number" | "(" | ")" | "[" | "]";
  text: string;
  value?: ScimValue;
  at: number;
}

function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input.charAt(i);
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === "(" || c === ")" || c === "[" || c === "]") {
      tokens.push({ kind: c, text: c, at: i });
      i++;
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      while (j < input.length && input.charAt(j) !== '"') j += input.charAt(j) === "\\" ? 2 : 1;
      if (j >= input.length) throw scimBadRequest("invalidFilter", `The filter has a string that never ends (at character ${i + 1}).`);
      const text = input.slice(i, j + 1);
      let value: string;
      try {
        value = JSON.parse(text) as string;
      } catch {
        throw scimBadRequest("invalidFilter", `The filter has an invalid string ${text}.`);
      }
      tokens.push({ kind: "string", text, value, at: i });
      i = j + 1;
      continue;
    }
    const match = /^[^\s()[\]"]+/.exec(input.slice(i));
    const text = match?.[0] ?? c;
    if (/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(text)) tokens.push({ kind: "number", text, value: Number(text), at: i });
    else tokens.push({ kind: "word", text, at: i });
    i += text.length;
  }
  return tokens;
}

const ATTR_PATH = /^[A-Za-z][\w$-]*(:[\w.$-]+)*(\.[A-Za-z][\w$-]*)?$/;

/** Parses a filter; throws a 400 ScimError with scimType invalidFilter saying what is wrong. */
export function parseScimFilter(input: string): ScimFilter {
  const tokens = tokenize(input);
  let pos = 0;
  const peek = () => tokens[pos];
  const fail = (message: string): never => {
    throw scimBadRequest("invalidFilter", `Invalid filter ${JSON.stringify(input)}: ${message}.`);
  };
  const isWord = (t: Token | undefined, word: string) => t?.kind === "word" && t.text.toLowerCase() === word;
  const expect = (kind: Token["kind"]) => {
    const t = tokens[pos];
    if (t?.kind !== kind) fail(`expected "${kind}" at ${t ? `"${t.text}"` : "the end"}`);
    pos++;
  };

  function parseOr(): ScimFilter {
    let left = parseAnd();
    while (isWord(peek(), "or")) {
      pos++;
      left = { op: "or", left, right: parseAnd() };
    }
    return left;
  }
  function parseAnd(): ScimFilter {
    let left = parseUnary();
    while (isWord(peek(), "and")) {
      pos++;
      left = { op: "and", left, right: parseUnary() };
    }
    return left;
  }
  function parseUnary(): ScimFilter {
    const t = peek();
    if (isWord(t, "not")) {
      pos++;
      expect("(");
      const filter = parseOr();
      expect(")");
      return { op: "not", filter };
    }
    if (t?.kind === "(") {
      pos++;
      const inner = parseOr();
      expect(")");
      return inner;
    }
    return parseAttrExp();
  }
  function parseAttrExp(): ScimFilter {
    const t = peek();
    if (t?.kind !== "word" || !ATTR_PATH.test(t.text)) return fail(t ? `"${t.text}" is not an attribute name` : "it ends too early");
    pos++;
    const attr = normalizeAttrPath(t.text);
    if (peek()?.kind === "[") {
      pos++;
      const filter = parseOr();
      expect("]");
      return { op: "valuePath", attr, filter };
    }
    const opToken = peek();
    const op = opToken?.kind === "word" ? opToken.text.toLowerCase() : "";
    if (op === "pr") {
      pos++;
      return { op: "pr", attr };
    }
    if (!(SCIM_COMPARE_OPS as readonly string[]).includes(op)) return fail(`"${opToken?.text ?? ""}" after ${t.text} is not an operator`);
    pos++;
    const v = peek();
    pos++;
    let value: ScimValue;
    if (v?.kind === "string" || v?.kind === "number") value = v.value ?? null;
    else if (isWord(v, "true")) value = true;
    else if (isWord(v, "false")) value = false;
    else if (isWord(v, "null")) value = null;
    else return fail(`${t.text} ${op} needs a value: a "string", a number, true, false or null`);
    return { op: op as ScimCompareOp, attr, value };
  }

  if (tokens.length === 0) fail("it is empty");
  const filter = parseOr();
  if (pos < tokens.length) fail(`unexpected "${tokens[pos]?.text ?? ""}"`);
  return filter;
}

/**
 * The same filter with value paths spelled out as plain attributes (`emails[value eq "x"]` →
 * `emails.value eq "x"`): enough where each multi-valued attribute holds one value, as a member's
 * e-mail does.
 */
export function flattenValuePaths(filter: ScimFilter, parent?: string): ScimFilter {
  const qualify = (attr: string) => (parent ? `${parent}.${attr}` : attr);
  switch (filter.op) {
    case "and":
    case "or":
      return { op: filter.op, left: flattenValuePaths(filter.left, parent), right: flattenValuePaths(filter.right, parent) };
    case "not":
      return { op: "not", filter: flattenValuePaths(filter.filter, parent) };
    case "valuePath":
      return flattenValuePaths(filter.filter, qualify(filter.attr));
    case "pr":
      return { op: "pr", attr: qualify(filter.attr) };
    default:
      return { ...filter, attr: qualify(filter.attr) };
  }
}

/** An attribute's value(s) in a resource, case-insensitively, through arrays (multi-valued attributes). */
export function attrValues(resource: unknown, path: string): unknown[] {
  let current: unknown[] = [resource];
  let rest = path;
  // An extension attribute: "urn:…:user:manager.value" → the extension object, then "manager.value".
  if (rest.startsWith("urn:")) {
    const colon = rest.lastIndexOf(":");
    const urn = rest.slice(0, colon);
    current = current.map((r) => lookup(r, urn));
    rest = rest.slice(colon + 1);
  }
  for (const part of rest.split(".")) {
    current = current.flatMap((value) => (Array.isArray(value) ? (value as unknown[]) : [value])).map((value) => lookup(value, part));
  }
  return current.flatMap((value) => (Array.isArray(value) ? (value as unknown[]) : [value])).filter((v) => v !== undefined && v !== null);
}

function lookup(value: unknown, key: string): unknown {
  if (!value || typeof value !== "object" || Array.isArray(value)) return undefined;
  const wanted = key.toLowerCase();
  for (const [k, v] of Object.entries(value)) if (k.toLowerCase() === wanted) return v;
  return undefined;
}

function compare(op: ScimCompareOp, actual: unknown, expected: ScimValue, caseExact: boolean): boolean {
  if (expected === null) return op === "ne" ? actual !== null : actual === null;
  if (typeof actual === "string" && typeof expected === "string") {
    const a = caseExact ? actual : actual.toLowerCase();
    const e = caseExact ? expected : expected.toLowerCase();
    switch (op) {
      case "eq":
        return a === e;
      case "ne":
        return a !== e;
      case "co":
        return a.includes(e);
      case "sw":
        return a.startsWith(e);
      case "ew":
        return a.endsWith(e);
      case "gt":
        return a > e;
      case "ge":
        return a >= e;
      case "lt":
        return a < e;
      case "le":
        return a <= e;
    }
  }
  if (typeof actual === "number" && typeof expected === "number") {
    if (op === "eq") return actual === expected;
    if (op === "ne") return actual !== expected;
    if (op === "gt") return actual > expected;
    if (op === "ge") return actual >= expected;
    if (op === "lt") return actual < expected;
    if (op === "le") return actual <= expected;
    return false;
  }
  if (typeof actual === "boolean" && typeof expected === "boolean") {
    if (op === "eq") return actual === expected;
    if (op === "ne") return actual !== expected;
    return false;
  }
  return op === "ne";
}

/**
 * Whether a resource (SCIM JSON) matches a filter. Strings compare case-insensitively except the
 * attributes named in `caseExact` (id, externalId, members.value are caseExact in RFC 7643).
 */
export function matchesScimFilter(resource: unknown, filter: ScimFilter, caseExact: ReadonlySet<string> = CASE_EXACT): boolean {
  switch (filter.op) {
    case "and":
      return matchesScimFilter(resource, filter.left, caseExact) && matchesScimFilter(resource, filter.right, caseExact);
    case "or":
      return matchesScimFilter(resource, filter.left, caseExact) || matchesScimFilter(resource, filter.right, caseExact);
    case "not":
      return !matchesScimFilter(resource, filter.filter, caseExact);
    case "pr":
      return attrValues(resource, filter.attr).some((v) => v !== "" && !(Array.isArray(v) && v.length === 0));
    case "valuePath": {
      const elements = attrValues(resource, filter.attr);
      return elements.some((element) => matchesScimFilter(element, filter.filter, caseExact));
    }
    default: {
      const values = attrValues(resource, filter.attr);
      const exact = caseExact.has(filter.attr);
      if (filter.op === "ne") return values.length === 0 || values.every((v) => compare("ne", v, filter.value, exact));
      return values.some((v) => compare(filter.op, v, filter.value, exact));
    }
  }
}

const CASE_EXACT: ReadonlySet<string> = new Set(["id", "externalid", "value", "members.value"]);
