/**
 * SCIM PATCH (RFC 7644 §3.5.2) applied to a resource's JSON: the adapter reads the resource as
 * it is, applies the operations here, and stores the result as a PUT would. Follows what identity
 * providers send, per the SCIM interoperability profile where the RFC leaves room:
 *  - ops in any letter case ("Replace", "Add": Microsoft Entra ID);
 *  - the no-path form (`{op:"replace", value:{active:false, "name.givenName":"A"}}`), with keys
 *    that are attribute paths or extension schema URNs;
 *  - `add` on a single-valued attribute is `replace`;
 *  - `emails[type eq "work"].value` on a resource without such an e-mail creates it;
 *  - `remove` of multi-valued elements by a filter (`members[value eq "…"]`) or by a value list.
 */
import { scimBadRequest } from "./errors";
import { type ScimFilter, SCIM_ENTERPRISE_USER_SCHEMA, matchesScimFilter, normalizeAttrPath, parseScimFilter } from "./filter";

export const SCIM_PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

type Json = Record<string, unknown>;
type PatchOpName = "add" | "replace" | "remove";

interface PatchPath {
  /** Keys from the resource root: an extension's URN first when the path names one. */
  segments: string[];
  filter?: ScimFilter;
  /** After a filter: the sub-attribute of the matched elements (`.value`). */
  sub?: string;
}

const EXTENSION_SCHEMAS = [SCIM_ENTERPRISE_USER_SCHEMA];

const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** The key of `obj` that is `name` in any letter case, or `name` itself when there is none. */
function keyOf(obj: Json, name: string): string {
  const wanted = name.toLowerCase();
  return Object.keys(obj).find((k) => k.toLowerCase() === wanted) ?? name;
}

function splitAttr(attrPath: string): string[] {
  if (attrPath.toLowerCase().startsWith("urn:")) {
    const normalized = normalizeAttrPath(attrPath);
    if (!normalized.startsWith("urn:")) return normalized.split(".");
    const colon = attrPath.lastIndexOf(":");
    const urn = attrPath.slice(0, colon);
    const extension = EXTENSION_SCHEMAS.find((s) => s.toLowerCase() === urn.toLowerCase()) ?? urn;
    return [extension, ...attrPath.slice(colon + 1).split(".")];
  }
  return attrPath.split(".");
}

export function parsePatchPath(path: string): PatchPath {
  const open = path.indexOf("[");
  if (open < 0) {
    const segments = splitAttr(path.trim());
    if (segments.some((s) => !/^[A-Za-z][\w$-]*$/.test(s) && !s.toLowerCase().startsWith("urn:")))
      throw scimBadRequest("invalidPath", `"${path}" is not an attribute path.`);
    return { segments };
  }
  const close = path.lastIndexOf("]");
  if (close < open) throw scimBadRequest("invalidPath", `"${path}" has a "[" without its "]".`);
  const after = path.slice(close + 1);
  if (after && !/^\.[A-Za-z][\w$-]*$/.test(after)) throw scimBadRequest("invalidPath", `"${path}" is not an attribute path.`);
  let filter: ScimFilter;
  try {
    filter = parseScimFilter(path.slice(open + 1, close));
  } catch {
    throw scimBadRequest("invalidPath", `"${path}" has an invalid filter.`);
  }
  return { segments: splitAttr(path.slice(0, open).trim()), filter, ...(after ? { sub: after.slice(1) } : {}) };
}

/** The object holding the last segment, created on the way for add/replace; undefined when absent. */
function containerOf(root: Json, segments: string[], create: boolean): Json | undefined {
  let current = root;
  for (const segment of segments.slice(0, -1)) {
    const key = keyOf(current, segment);
    let next = current[key];
    if (!isObject(next)) {
      if (!create) return undefined;
      next = {};
      current[key] = next;
    }
    current = next as Json;
  }
  return current;
}

/** A multi-valued element's identity: its `value` when it has one, else the whole element. */
const identity = (v: unknown) => (isObject(v) && "value" in v ? JSON.stringify(v.value) : JSON.stringify(v));

/** The equality conditions of a filter (`type eq "work" and primary eq true`), to build an element that satisfies it. */
function equalities(filter: ScimFilter): Json | null {
  if (filter.op === "eq") return filter.attr.includes(".") ? null : { [filter.attr]: filter.value };
  if (filter.op === "and") {
    const left = equalities(filter.left);
    const right = equalities(filter.right);
    return left && right ? { ...left, ...right } : null;
  }
  return null;
}

function applyAt(root: Json, op: PatchOpName, path: PatchPath, value: unknown, raw: string): void {
  const container = containerOf(root, path.segments, op !== "remove");
  const last = path.segments.at(-1) ?? "";
  if (!container) return; // removing something that is not there changes nothing
  const key = keyOf(container, last);
  const existing = container[key];

  if (path.filter) {
    const filter = path.filter;
    const elements = Array.isArray(existing) ? [...(existing as unknown[])] : [];
    const matched = elements.filter((e) => matchesScimFilter(e, filter));
    if (op === "remove") {
      if (path.sub) {
        for (const e of matched) if (isObject(e)) delete e[keyOf(e, path.sub)];
      } else container[key] = elements.filter((e) => !matched.includes(e));
      return;
    }
    if (matched.length === 0) {
      const seed = equalities(filter);
      if (!seed) throw scimBadRequest("noTarget", `No value of "${raw}" matches its filter.`);
      const element = path.sub ? { ...seed, [path.sub]: value } : isObject(value) ? { ...seed, ...value } : { ...seed, value };
      container[key] = [...elements, element];
      return;
    }
    for (const e of matched) {
      if (!isObject(e)) continue;
      if (path.sub) e[keyOf(e, path.sub)] = value;
      else if (isObject(value)) Object.assign(e, value);
    }
    return;
  }

  if (op === "remove") {
    if (Array.isArray(existing) && value !== undefined) {
      const gone = new Set((Array.isArray(value) ? value : [value]).map(identity));
      container[key] = (existing as unknown[]).filter((e) => !gone.has(identity(e)));
    } else delete container[key];
    return;
  }
  if (op === "add" && (Array.isArray(existing) || Array.isArray(value))) {
    const current = Array.isArray(existing) ? (existing as unknown[]) : existing === undefined || existing === null ? [] : [existing];
    const adding = Array.isArray(value) ? (value as unknown[]) : [value];
    const seen = new Set(current.map(identity));
    container[key] = [...current, ...adding.filter((v) => !seen.has(identity(v)))];
    return;
  }
  // A complex single-valued attribute (name, an extension, manager): the sub-attributes given
  // replace theirs, the others stay (RFC 7644 §3.5.2.3). Everything else: set (add ≡ replace).
  if (isObject(existing) && isObject(value)) {
    for (const [k, v] of Object.entries(value)) existing[keyOf(existing, k)] = v;
    return;
  }
  container[key] = value;
}

/** Applies a PatchOp request body to a copy of `resource` and returns the copy. */
export function applyScimPatch(resource: Json, body: unknown): Json {
  if (!isObject(body)) throw scimBadRequest("invalidSyntax", "The body must be a PatchOp object.");
  const schemas = body.schemas;
  if (!Array.isArray(schemas) || !schemas.some((s) => typeof s === "string" && s.toLowerCase() === SCIM_PATCH_SCHEMA.toLowerCase()))
    throw scimBadRequest("invalidSyntax", `A PATCH body must list the schema ${SCIM_PATCH_SCHEMA}.`);
  const operations = body.Operations ?? body.operations;
  if (!Array.isArray(operations) || operations.length === 0)
    throw scimBadRequest("invalidSyntax", "A PATCH body needs a non-empty Operations array.");
  const result = structuredClone(resource);
  for (const [index, operation] of (operations as unknown[]).entries()) {
    if (!isObject(operation)) throw scimBadRequest("invalidSyntax", `Operations[${index}] is not an object.`);
    const op = typeof operation.op === "string" ? operation.op.toLowerCase() : "";
    if (op !== "add" && op !== "replace" && op !== "remove")
      throw scimBadRequest("invalidSyntax", `Operations[${index}].op must be add, replace or remove.`);
    const path = typeof operation.path === "string" && operation.path.trim() !== "" ? operation.path : null;
    const value = operation.value;
    if (path === null) {
      if (op === "remove") throw scimBadRequest("noTarget", `Operations[${index}]: remove needs a path.`);
      if (!isObject(value)) throw scimBadRequest("invalidValue", `Operations[${index}]: without a path, the value must be an object.`);
      for (const [attr, v] of Object.entries(value)) {
        const extension = EXTENSION_SCHEMAS.find((s) => s.toLowerCase() === attr.toLowerCase());
        if (extension && isObject(v)) {
          for (const [sub, subValue] of Object.entries(v)) applyAt(result, op, { segments: [extension, sub] }, subValue, `${attr}:${sub}`);
        } else applyAt(result, op, parsePatchPath(attr), v, attr);
      }
      continue;
    }
    if (op !== "remove" && value === undefined) throw scimBadRequest("invalidValue", `Operations[${index}]: ${op} needs a value.`);
    applyAt(result, op, parsePatchPath(path), value, path);
  }
  return result;
}
