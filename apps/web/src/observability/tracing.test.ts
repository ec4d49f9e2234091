import { describe, expect, it } from "vitest";
import { readEnv } from "../env";
import { tracesUrl } from "./tracing";

describe("tracesUrl: tracing is on only with an OTLP endpoint", () => {
  it.each<[Record<string, string>, string | null]>([
    [{}, null],
    [{ OTEL_SERVICE_NAME: "approvalmatrix" }, null],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" }, "http://collector:4318/v1/traces"],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318/" }, "http://collector:4318/v1/traces"],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: "https://otlp.example/base" }, "https://otlp.example/base/v1/traces"],
    // The signal's own URL is taken as given, and wins over the base.
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: "http://a:4318", OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://b:4318/traces" }, "http://b:4318/traces"],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: "http://a:4318", OTEL_SDK_DISABLED: "true" }, null],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: "http://a:4318", OTEL_TRACES_EXPORTER: "none" }, null],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: "" }, null],
  ])("%o → %s", (source, expected) => {
    expect(tracesUrl(readEnv(source))).toBe(expected);
  });

  it("refuses what it cannot export at start-up: gRPC, another exporter, an endpoint that is not a URL", () => {
    expect(() => readEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://a:4317", OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" })).toThrow(
      /OTEL_EXPORTER_OTLP_PROTOCOL/,
    );
    expect(() => readEnv({ OTEL_TRACES_EXPORTER: "zipkin" })).toThrow(/OTEL_TRACES_EXPORTER/);
    expect(() => readEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: "collector:4318" })).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT/);
  });
});
