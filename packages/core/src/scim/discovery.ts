/** The SCIM discovery documents (RFC 7643 §5–7): what this service provider supports. */
import { SCIM_ENTERPRISE_USER_SCHEMA, SCIM_GROUP_SCHEMA, SCIM_USER_SCHEMA } from "./filter";

export const SCIM_LIST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
export const SCIM_ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error";
export const SCIM_CONFIG_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
export const SCIM_RESOURCE_TYPE_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
export const SCIM_SCHEMA_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Schema";
export const SCIM_CONTENT_TYPE = "application/scim+json";
/** The most resources one list page returns, whatever `count` asks. */
export const SCIM_MAX_RESULTS = 200;

export function serviceProviderConfig(baseUrl: string, documentationUri: string) {
  return {
    schemas: [SCIM_CONFIG_SCHEMA],
    documentationUri,
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults: SCIM_MAX_RESULTS },
    changePassword: { supported: false },
    sort: { supported: false },
    etag: { supported: false },
    authenticationSchemes: [
      {
        type: "oauthbearertoken",
        name: "Bearer token",
        description: "A tenant's SCIM token (scim_…), created in the admin app under Directory sync.",
        primary: true,
      },
    ],
    meta: { resourceType: "ServiceProviderConfig", location: `${baseUrl}/ServiceProviderConfig` },
  };
}

export function resourceTypes(baseUrl: string) {
  return [
    {
      schemas: [SCIM_RESOURCE_TYPE_SCHEMA],
      id: "User",
      name: "User",
      endpoint: "/Users",
      description: "A member of the tenant",
      schema: SCIM_USER_SCHEMA,
      schemaExtensions: [{ schema: SCIM_ENTERPRISE_USER_SCHEMA, required: false }],
      meta: { resourceType: "ResourceType", location: `${baseUrl}/ResourceTypes/User` },
    },
    {
      schemas: [SCIM_RESOURCE_TYPE_SCHEMA],
      id: "Group",
      name: "Group",
      endpoint: "/Groups",
      description: "A department: its members are the members of that department",
      schema: SCIM_GROUP_SCHEMA,
      meta: { resourceType: "ResourceType", location: `${baseUrl}/ResourceTypes/Group` },
    },
  ];
}

type Attribute = {
  name: string;
  type: "string" | "boolean" | "complex" | "reference";
  multiValued?: boolean;
  required?: boolean;
  caseExact?: boolean;
  mutability?: "readOnly" | "readWrite" | "immutable" | "writeOnly";
  uniqueness?: "none" | "server";
  subAttributes?: Attribute[];
  referenceTypes?: string[];
  description?: string;
};

function attribute(a: Attribute): Record<string, unknown> {
  return {
    multiValued: false,
    required: false,
    caseExact: false,
    mutability: "readWrite",
    returned: "default",
    uniqueness: "none",
    description: "",
    ...a,
    ...(a.subAttributes ? { subAttributes: a.subAttributes.map(attribute) } : {}),
  };
}

const USER_ATTRIBUTES: Attribute[] = [
  { name: "userName", type: "string", required: true, uniqueness: "server", description: "Unique sign-in name; usually the e-mail." },
  {
    name: "name",
    type: "complex",
    subAttributes: [
      { name: "formatted", type: "string" },
      { name: "givenName", type: "string" },
      { name: "familyName", type: "string" },
    ],
  },
  { name: "displayName", type: "string", description: "The member's name." },
  {
    name: "emails",
    type: "complex",
    multiValued: true,
    subAttributes: [
      { name: "value", type: "string" },
      { name: "type", type: "string" },
      { name: "primary", type: "boolean" },
    ],
  },
  { name: "active", type: "boolean", description: "false deactivates the member; their open approvals are re-pointed." },
];

const ENTERPRISE_ATTRIBUTES: Attribute[] = [
  { name: "employeeNumber", type: "string", description: "The member's externalRef when the tenant maps it from employeeNumber." },
  { name: "department", type: "string" },
  {
    name: "manager",
    type: "complex",
    subAttributes: [
      { name: "value", type: "string", description: "The manager's id (a bare id is accepted too)." },
      { name: "$ref", type: "reference", referenceTypes: ["User"] },
      { name: "displayName", type: "string", mutability: "readOnly" },
    ],
  },
];

const GROUP_ATTRIBUTES: Attribute[] = [
  { name: "displayName", type: "string", required: true, uniqueness: "server", description: "The department's name." },
  {
    name: "members",
    type: "complex",
    multiValued: true,
    subAttributes: [
      { name: "value", type: "string", caseExact: true, mutability: "immutable" },
      { name: "$ref", type: "reference", referenceTypes: ["User"], mutability: "immutable" },
      { name: "display", type: "string", mutability: "readOnly" },
    ],
  },
];

export function scimSchemas(baseUrl: string) {
  const schema = (id: string, name: string, attributes: Attribute[]) => ({
    schemas: [SCIM_SCHEMA_SCHEMA],
    id,
    name,
    description: name,
    attributes: attributes.map(attribute),
    meta: { resourceType: "Schema", location: `${baseUrl}/Schemas/${id}` },
  });
  return [
    schema(SCIM_USER_SCHEMA, "User", USER_ATTRIBUTES),
    schema(SCIM_ENTERPRISE_USER_SCHEMA, "EnterpriseUser", ENTERPRISE_ATTRIBUTES),
    schema(SCIM_GROUP_SCHEMA, "Group", GROUP_ATTRIBUTES),
  ];
}

/** A ListResponse (RFC 7644 §3.4.2). */
export function listResponse<T>(resources: T[], totalResults: number, startIndex: number) {
  return { schemas: [SCIM_LIST_SCHEMA], totalResults, startIndex, itemsPerPage: resources.length, Resources: resources };
}

/** startIndex and count from a query string (RFC 7644 §3.4.2.4): 1-based, values below 1 taken as 1 and 0. */
export function scimPaging(startIndex: string | null, count: string | null): { startIndex: number; count: number } {
  const start = Number.parseInt(startIndex ?? "", 10);
  const n = Number.parseInt(count ?? "", 10);
  return {
    startIndex: Number.isFinite(start) && start >= 1 ? start : 1,
    count: Number.isFinite(n) ? Math.min(Math.max(n, 0), SCIM_MAX_RESULTS) : 100,
  };
}

/** The token format of SCIM bearer tokens: distinct from API keys so neither is accepted for the other. */
export const SCIM_TOKEN_PREFIX = "scim_";
export const SCIM_TOKEN_PATTERN = /^scim_[0-9A-Za-z]{40}$/;
