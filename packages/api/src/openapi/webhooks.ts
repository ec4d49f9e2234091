/**
 * The `webhooks` section of the OpenAPI 3.1 document: one entry per event type, with the JSON
 * Schema of its envelope and an example, and the Standard Webhooks headers every delivery carries.
 * The payload shapes mirror services/events/*-events.ts and api-keys.ts (thin-plus: what
 * integrations always need, and `url` to the full resource).
 */
import { EVENT_API_VERSION, EVENT_DESCRIPTIONS, EVENT_TYPES, type EventType } from "@approvalmatrix/core";

type Json = Record<string, unknown>;

const str = (description?: string): Json => ({ type: "string", ...(description ? { description } : {}) });
const nullable = (schema: Json): Json => ({ ...schema, type: [schema.type as string, "null"] });

const STAGE = {
  type: ["object", "null"],
  required: ["position", "name"],
  properties: { position: { type: "integer" }, name: str() },
  description: "The stage the event is about; null for the request's outcome.",
};

const REQUEST_DATA: Json = {
  type: "object",
  required: ["requestId", "tenantId", "requestType", "title", "submitterRef", "status", "stage", "totalStages", "url"],
  properties: {
    requestId: str(),
    tenantId: str(),
    requestType: str(),
    title: str(),
    amount: nullable({ type: "number" }),
    currency: nullable(str()),
    submitterRef: str("The submitter's externalRef."),
    status: { type: "string", enum: ["pending", "in_progress", "approved", "rejected", "cancelled", "expired"] },
    stage: STAGE,
    totalStages: { type: "integer" },
    url: str("The full request: GET this path with a requests:read key."),
  },
};

const DECISION = {
  type: "object",
  required: ["decision"],
  properties: {
    decision: { type: "string", enum: ["approved", "rejected"] },
    approverRef: str(),
    approverName: str(),
    comment: nullable(str()),
    actor: {
      type: "object",
      description:
        "Who decided for the approver: an API key, a user, a service acting for them, or (type `delegate`, id the member's id) the delegate sitting in for them.",
      properties: { type: str(), id: str(), name: str() },
    },
    delegate: {
      type: "object",
      description: "Present when a delegate (out of office) decided for the approver of record: “Bob Lee for Jane Smith”.",
      properties: { ref: str("The delegate's externalRef."), name: str() },
    },
  },
};

const MEMBER_DATA: Json = {
  type: "object",
  required: ["memberId", "tenantId", "externalRef", "name", "active"],
  properties: {
    memberId: str(),
    tenantId: str(),
    externalRef: str(),
    name: str(),
    email: nullable(str()),
    department: nullable(str()),
    managerId: nullable(str()),
    active: { type: "boolean" },
  },
};

const API_KEY_DATA: Json = {
  type: "object",
  required: ["keyId", "tenantId", "name", "start", "scopes"],
  properties: {
    keyId: str(),
    tenantId: str(),
    name: str(),
    start: str("The key's first characters (never the key)."),
    scopes: { type: "array", items: str() },
    expiresAt: nullable(str()),
    revokedAt: nullable(str()),
  },
};

const ENDPOINT_DATA: Json = {
  type: "object",
  required: ["endpointId", "url", "reason", "disabledAt"],
  properties: { endpointId: str(), url: str(), reason: str(), disabledAt: str() },
};

const requestExample = (status: string, stage: { position: number; name: string } | null, extra: Json = {}) => ({
  requestId: "req_7Hq2mK8Lr3Xn9Tb0Wc4V",
  tenantId: "ten_3kd9Qm2LxP0aZr7Vb1Nc",
  requestType: "purchase_order",
  title: "Office Supplies Q3",
  amount: 4500,
  currency: "USD",
  submitterRef: "EMP-1042",
  status,
  stage,
  totalStages: 2,
  url: "/v1/requests/req_7Hq2mK8Lr3Xn9Tb0Wc4V",
  ...extra,
});
const STAGE_1 = { position: 1, name: "Manager approval" };
const STAGE_2 = { position: 2, name: "Finance approval" };
const memberExample = (active: boolean) => ({
  memberId: "mem_Q8w3Lp0Zr5Tb2Xn7Mk4V",
  tenantId: "ten_3kd9Qm2LxP0aZr7Vb1Nc",
  externalRef: "EMP-2001",
  name: "Jane Smith",
  email: "jane.smith@acme.example",
  department: "Engineering",
  managerId: null,
  active,
});
const keyExample = (revoked: boolean) => ({
  keyId: "key_Zr5Tb2Xn7Mk4VQ8w3Lp0",
  tenantId: "ten_3kd9Qm2LxP0aZr7Vb1Nc",
  name: "ERP production",
  start: "apx_live_Ab12",
  scopes: ["requests:write", "requests:read"],
  expiresAt: null,
  revokedAt: revoked ? "2026-11-30T10:05:00.000Z" : null,
});

/** Each event type's payload schema and example. */
function payloadOf(type: EventType): { schema: Json; example: Json } {
  const [group] = type.split(".");
  if (group === "member") return { schema: MEMBER_DATA, example: memberExample(type !== "member.deactivated") };
  if (group === "api_key") return { schema: API_KEY_DATA, example: keyExample(type === "api_key.revoked") };
  if (group === "webhook_endpoint") {
    return {
      schema: ENDPOINT_DATA,
      example: {
        endpointId: "whe_Lp0Zr5Tb2Xn7Mk4VQ8w3",
        url: "https://erp.example.com/webhooks/approvalmatrix",
        reason: "Every delivery failed for 5 days.",
        disabledAt: "2026-11-30T10:05:00.000Z",
      },
    };
  }
  switch (type) {
    case "approval_request.decision_recorded":
      return {
        schema: {
          ...REQUEST_DATA,
          required: [...(REQUEST_DATA.required as string[]), "decision"],
          properties: { ...(REQUEST_DATA.properties as Json), decision: DECISION },
        },
        example: requestExample("in_progress", STAGE_1, {
          decision: {
            decision: "approved",
            approverRef: "EMP-2001",
            approverName: "Jane Smith",
            comment: "Within the team budget",
            actor: { type: "user", id: "usr_Xn7Mk4VQ8w3Lp0Zr5Tb2", name: "Jane Smith" },
          },
        }),
      };
    case "approval_request.cancelled":
      return {
        schema: {
          ...REQUEST_DATA,
          properties: { ...(REQUEST_DATA.properties as Json), reason: nullable(str("The cancel reason, if one was given.")) },
        },
        example: requestExample("cancelled", null, { reason: "No longer needed" }),
      };
    case "approval_request.created":
      return { schema: REQUEST_DATA, example: requestExample("pending", STAGE_1) };
    case "approval_request.stage_opened":
      return { schema: REQUEST_DATA, example: requestExample("in_progress", STAGE_2) };
    case "approval_request.stage_approved":
      return { schema: REQUEST_DATA, example: requestExample("in_progress", STAGE_1) };
    case "approval_request.stage_rejected":
      return { schema: REQUEST_DATA, example: requestExample("rejected", STAGE_2) };
    case "approval_request.approved":
      return { schema: REQUEST_DATA, example: requestExample("approved", null) };
    case "approval_request.rejected":
      return { schema: REQUEST_DATA, example: requestExample("rejected", null) };
    case "approval_request.expired":
      return { schema: REQUEST_DATA, example: requestExample("expired", null) };
    case "approval_request.reassigned":
      return {
        schema: {
          ...REQUEST_DATA,
          required: [...(REQUEST_DATA.required as string[]), "reassignments"],
          properties: {
            ...(REQUEST_DATA.properties as Json),
            reassignments: {
              type: "array",
              description: "The seats of the open stage that moved.",
              items: {
                type: "object",
                properties: {
                  fromRef: str("Who held the seat (externalRef)."),
                  toRef: str("Who holds it now."),
                  reason: str("`delegation` (a delegate took it), `delegation_ended` (handed back), or an admin's reason."),
                },
              },
            },
          },
        },
        example: requestExample("in_progress", STAGE_1, {
          reassignments: [{ fromRef: "EMP-2001", toRef: "EMP-3002", reason: "delegation" }],
        }),
      };
    default:
      // Reminders, escalations, reassignments: the request's fields, plus what the later work adds.
      return { schema: { ...REQUEST_DATA, additionalProperties: true }, example: requestExample("in_progress", STAGE_1) };
  }
}

const HEADER_PARAMETERS = [
  {
    name: "webhook-id",
    in: "header",
    required: true,
    description: "The message id (the event id): the same on every retry of this delivery. Dedupe on it.",
    schema: { type: "string" },
    example: "evt_9Lp0Zr5Tb2Xn7Mk4VQ8w",
  },
  {
    name: "webhook-timestamp",
    in: "header",
    required: true,
    description: "Unix seconds of this attempt. Refuse a message more than 5 minutes off your clock (replays).",
    schema: { type: "string" },
    example: "1796032800",
  },
  {
    name: "webhook-signature",
    in: "header",
    required: true,
    description:
      "Space-separated `v1,<base64>` signatures: HMAC-SHA256 over `webhook-id.webhook-timestamp.body` with the base64-decoded part of your whsec_ secret (Standard Webhooks v1). During a secret rotation there are two; accept the message if any one verifies.",
    schema: { type: "string" },
    example: "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=",
  },
];

function envelopeSchema(type: EventType, data: Json): Json {
  return {
    type: "object",
    required: ["id", "type", "createdAt", "apiVersion", "data"],
    properties: {
      id: { type: "string", description: "The event id (evt_…); also the webhook-id header." },
      type: { type: "string", const: type },
      createdAt: { type: "string", format: "date-time" },
      apiVersion: { type: "string", description: "The version of the envelope and payload shapes.", example: EVENT_API_VERSION },
      data,
    },
  };
}

/** Every event type as an OpenAPI 3.1 webhook, plus the component schema of each envelope. */
export function webhooksSection(): { webhooks: Json; schemas: Json } {
  const webhooks: Json = {};
  const schemas: Json = {};
  for (const type of EVENT_TYPES) {
    const { schema, example } = payloadOf(type);
    const name = `Event_${type.replace(/\./g, "_")}`;
    schemas[name] = envelopeSchema(type, schema);
    webhooks[type] = {
      post: {
        operationId: `webhook_${type.replace(/\./g, "_")}`,
        summary: type,
        description: `${EVENT_DESCRIPTIONS[type]}\n\nPOSTed to every enabled endpoint subscribed to it, signed per Standard Webhooks; the same body is readable from GET /v1/events.`,
        tags: ["Webhooks"],
        parameters: HEADER_PARAMETERS,
        requestBody: {
          required: true,
          content: {
            "application/json": {
              schema: { $ref: `#/components/schemas/${name}` },
              example: {
                id: "evt_9Lp0Zr5Tb2Xn7Mk4VQ8w",
                type,
                createdAt: "2026-11-30T10:00:00.000Z",
                apiVersion: EVENT_API_VERSION,
                data: example,
              },
            },
          },
        },
        responses: {
          "200": { description: "Any 2xx acknowledges the delivery. Answer quickly (within 15 s) and do the work afterwards." },
          "410": { description: "Gone: the endpoint is disabled and receives nothing more until enabled again." },
        },
        security: [],
      },
    };
  }
  return { webhooks, schemas };
}
