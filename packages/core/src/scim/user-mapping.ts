/**
 * How a SCIM User becomes a member (the mapping), whichever identity provider sent it:
 *  externalId or enterprise employeeNumber (a tenant setting) → externalRef (userName when absent);
 *  primary e-mail, else the first, else a userName that is an e-mail → email;
 *  displayName, else name.formatted, else given + family name, else userName → name;
 *  active (true, or Entra's "True"/"False" strings) → active;
 *  enterprise department → department; enterprise manager (a bare id or {value}) → manager.
 */
import { scimBadRequest } from "./errors";
import { SCIM_ENTERPRISE_USER_SCHEMA, attrValues } from "./filter";

export const EXTERNAL_REF_SOURCES = ["externalId", "employeeNumber"] as const;
export type ExternalRefSource = (typeof EXTERNAL_REF_SOURCES)[number];

export interface ScimUserFields {
  userName: string;
  externalId: string | null;
  externalRef: string;
  name: string;
  email: string | null;
  active: boolean;
  department: string | null;
  /** The manager as the identity provider names them (our id, their externalId or externalRef); null for none. */
  managerValue: string | null;
}

const first = (resource: unknown, path: string): unknown => attrValues(resource, path)[0];

function text(value: unknown, field: string, max = 200): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== "string") throw scimBadRequest("invalidValue", `${field} must be a string.`);
  const trimmed = value.trim();
  if (trimmed.length > max) throw scimBadRequest("invalidValue", `${field} is longer than ${max} characters.`);
  return trimmed === "" ? null : trimmed;
}

/** SCIM booleans, and the strings some providers send for them. */
export function scimBoolean(value: unknown, field: string): boolean {
  if (typeof value === "boolean") return value;
  if (typeof value === "string" && /^(true|false)$/i.test(value.trim())) return value.trim().toLowerCase() === "true";
  throw scimBadRequest("invalidValue", `${field} must be true or false.`);
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const enterprise = (attr: string) => `${SCIM_ENTERPRISE_USER_SCHEMA.toLowerCase()}:${attr}`;

/** The member fields of a SCIM User resource; a 400 invalidValue ScimError names what is wrong. */
export function scimUserToFields(resource: unknown, source: ExternalRefSource): ScimUserFields {
  const userName = text(first(resource, "userName"), "userName");
  if (!userName) throw scimBadRequest("invalidValue", "userName is required.");
  const externalId = text(first(resource, "externalId"), "externalId");
  const employeeNumber = text(first(resource, enterprise("employeeNumber")), "employeeNumber");
  const externalRef = (source === "employeeNumber" ? employeeNumber : externalId) ?? userName;

  const emails = attrValues(resource, "emails");
  const primary = emails.find((e) => typeof e === "object" && e !== null && scimPrimary((e as { primary?: unknown }).primary));
  const emailValue = text(first(primary ?? emails[0], "value"), "emails.value");
  const email = emailValue ?? (EMAIL.test(userName) ? userName : null);
  if (email && !EMAIL.test(email)) throw scimBadRequest("invalidValue", `"${email}" is not an e-mail address.`);

  const given = text(first(resource, "name.givenName"), "name.givenName");
  const family = text(first(resource, "name.familyName"), "name.familyName");
  const name =
    text(first(resource, "displayName"), "displayName") ??
    text(first(resource, "name.formatted"), "name.formatted") ??
    ([given, family].filter(Boolean).join(" ") || userName);

  const activeValue = first(resource, "active");
  const active = activeValue === undefined ? true : scimBoolean(activeValue, "active");
  const department = text(first(resource, enterprise("department")), "department");

  const manager = attrValues(resource, enterprise("manager"))[0];
  const managerValue = typeof manager === "string" ? text(manager, "manager") : text(first(manager, "value"), "manager.value");
  return { userName, externalId, externalRef, name, email, active, department, managerValue };
}

function scimPrimary(value: unknown): boolean {
  return value === true || (typeof value === "string" && value.toLowerCase() === "true");
}
