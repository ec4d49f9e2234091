import SwaggerParser from "@apidevtools/swagger-parser";
import { createConfig, lintFromString } from "@redocly/openapi-core";
import { describe, expect, it } from "vitest";
import { requestView } from "../contracts/requests";
import { createdRequestOutput, dryRunOutput, submitRequestInput } from "../routers/requests/schemas";
import { buildOpenApiDocument } from "./document";
import { EXAMPLES } from "./examples";
import { EVENT_TYPES, must } from "@approvalmatrix/core";

type Json = Record<string, any>;
const doc = buildOpenApiDocument({ baseUrl: "/v1" }) as Json;
const op = (method: string, path: string): Json => doc.paths[path][method];

describe("the OpenAPI document", () => {
  it("is a valid OpenAPI 3 document", async () => {
    await expect(SwaggerParser.validate(structuredClone(doc) as never)).resolves.toBeTruthy();
    expect(doc.openapi).toMatch(/^3\./);
  });

  it("documents the three endpoints of the reference under /v1 with bearer security", () => {
    expect(doc.servers).toEqual([{ url: "/v1" }]);
    expect(Object.keys(doc.paths).sort()).toEqual(expect.arrayContaining(["/requests", "/requests/test", "/requests/{requestId}"]));
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: "http", scheme: "bearer" });
    for (const [method, path] of [
      ["post", "/requests"],
      ["post", "/requests/test"],
      ["get", "/requests/{requestId}"],
    ] as const) {
      expect(op(method, path).security).toEqual([{ bearerAuth: [] }]);
    }
  });

  it("says 201 for create and 200 for the others", () => {
    expect(Object.keys(op("post", "/requests").responses)).toContain("201");
    expect(Object.keys(op("post", "/requests").responses)).not.toContain("200");
    expect(Object.keys(op("post", "/requests/test").responses)).toContain("200");
    expect(Object.keys(op("get", "/requests/{requestId}").responses)).toContain("200");
  });

  it("documents every error status each endpoint can answer, all with the one Error object", () => {
    const expected: Record<string, string[]> = {
      "post /requests": ["400", "401", "403", "413", "415", "422", "429", "500"],
      "post /requests/test": ["400", "401", "403", "413", "415", "422", "429", "500"],
      "get /requests/{requestId}": ["400", "401", "403", "404", "429", "500"],
    };
    for (const [key, statuses] of Object.entries(expected)) {
      const [method, path] = key.split(" ") as [string, string];
      const responses = op(method, path).responses;
      const errors = Object.keys(responses).filter((s) => Number(s) >= 400);
      expect(errors.sort(), key).toEqual(expect.arrayContaining(statuses));
      for (const status of errors) {
        expect(responses[status].content["application/json"].schema).toEqual({ $ref: "#/components/schemas/Error" });
      }
    }
    expect(op("post", "/requests").responses["422"].description).toContain("no_matching_matrix");
    expect(op("post", "/requests").responses["422"].description).toContain("unknown_submitter");
    expect(op("post", "/requests").responses["429"].headers["Retry-After"]).toBeDefined();
    expect(doc.components.schemas.Error.properties.error.required).toEqual(["code", "message", "requestId"]);
  });

  it("carries the reference's examples, and they satisfy the real schemas", () => {
    const create = op("post", "/requests");
    expect(create.requestBody.content["application/json"].example).toEqual(must(EXAMPLES["POST /requests"]).request);
    expect(submitRequestInput.safeParse(must(EXAMPLES["POST /requests"]).request).success).toBe(true);
    expect(createdRequestOutput.safeParse(create.responses["201"].content["application/json"].example).success).toBe(true);
    expect(dryRunOutput.safeParse(op("post", "/requests/test").responses["200"].content["application/json"].example).success).toBe(true);
    expect(requestView.safeParse(op("get", "/requests/{requestId}").responses["200"].content["application/json"].example).success).toBe(
      true,
    );
  });

  it("lists method_not_allowed (405) in the error catalog and rate-limit headers on errors, 401 included", () => {
    expect(doc.components.schemas.Error.properties.error.properties.code.enum).toContain("method_not_allowed");
    expect(doc.info.description).toContain("405");
    expect(Object.keys(op("get", "/requests/{requestId}").responses["401"].headers)).toEqual(
      expect.arrayContaining(["X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "Request-Id"]),
    );
  });

  it("takes each endpoint's success status from its meta.successStatus", () => {
    expect(op("post", "/requests").responses["201"].description).toBeTruthy();
    expect(op("post", "/requests").responses["201"].headers["X-RateLimit-Remaining"]).toBeDefined();
  });

  it("describes the rate-limit headers on success responses", () => {
    const headers = op("get", "/requests/{requestId}").responses["200"].headers;
    expect(Object.keys(headers)).toEqual(
      expect.arrayContaining(["X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "Request-Id"]),
    );
  });
});

describe("the OpenAPI document under Redocly's recommended rules", () => {
  it("lints with no error and no warning", async () => {
    const config = await createConfig({ extends: ["recommended"] });
    const problems = await lintFromString({ source: JSON.stringify(doc), absoluteRef: "openapi.json", config });
    expect(problems.map((p) => `${p.severity} ${p.ruleId}: ${p.message}`)).toEqual([]);
  });
});

describe("the webhooks section (OpenAPI 3.1)", () => {
  it("lists every event type with its envelope schema, an example and the Standard Webhooks headers", () => {
    expect(doc.openapi).toMatch(/^3\.1\./);
    expect(Object.keys(doc.webhooks).sort()).toEqual([...EVENT_TYPES].sort());
    for (const type of EVENT_TYPES) {
      const operation = doc.webhooks[type].post;
      expect(operation.parameters.map((p: { name: string }) => p.name)).toEqual(["webhook-id", "webhook-timestamp", "webhook-signature"]);
      const content = operation.requestBody.content["application/json"];
      const schema = doc.components.schemas[content.schema.$ref.replace("#/components/schemas/", "")];
      expect(schema.required).toEqual(["id", "type", "createdAt", "apiVersion", "data"]);
      expect(schema.properties.type.const).toBe(type);
      expect(content.example.type).toBe(type);
      // The example carries every field its data schema requires.
      for (const field of schema.properties.data.required) expect(content.example.data, `${type}.${field}`).toHaveProperty(field);
    }
    expect(doc.components.schemas.Event_approval_request_decision_recorded.properties.data.required).toContain("decision");
  });

  it("documents the webhook and events endpoints with their scopes' errors", () => {
    expect(op("post", "/webhook-endpoints").responses["201"]).toBeDefined();
    expect(op("post", "/webhook-endpoints").responses["422"].description).toContain("webhook_url_refused");
    expect(op("get", "/events").parameters.map((p: { name: string }) => p.name)).toEqual(
      expect.arrayContaining(["type", "createdAfter", "createdBefore", "limit", "startingAfter"]),
    );
    expect(op("get", "/requests").parameters.map((p: { name: string }) => p.name)).toContain("updatedAfter");
  });
});
