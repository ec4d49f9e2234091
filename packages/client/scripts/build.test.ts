import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { UnprintableType, checkDeclarations, printContract } from "./build";

const fixtures = join(import.meta.dirname, "fixtures");
// Each case builds a TypeScript program: seconds, not milliseconds.
const PROGRAM_TIMEOUT = 60_000;

describe("the contract printer", () => {
  it(
    "prints inputs and outputs as literal types, importing only tRPC",
    () => {
      const contract = printContract(join(fixtures, "printable.ts"));
      expect(contract).toContain("ping: TRPCQueryProcedure<{");
      expect(contract).toMatch(/input: \{\n\s+name: string;\n\s+tags\?: undefined \| ReadonlyArray<string>;/);
      expect(contract).toMatch(
        /ok: true;\n\s+count: number;\n\s+at: Date;\n\s+pair: \[string, number\];\n\s+extra: \{\n\s+\[key: string\]: unknown;/,
      );
      expect(contract).toMatch(/nested: \{\n\s+save: TRPCMutationProcedure<\{\n\s+input: void;\n\s+output: \{\n\s+saved: boolean;/);
      expect([...contract.matchAll(/from "([^"]+)"/g)].map((m) => m[1])).toEqual(["@trpc/server"]);
    },
    PROGRAM_TIMEOUT,
  );

  it(
    "refuses a type it cannot print faithfully instead of leaking an import",
    () => {
      let refusal: unknown;
      try {
        printContract(join(fixtures, "unprintable.ts"));
      } catch (error) {
        refusal = error;
      }
      expect(refusal).toBeInstanceOf(UnprintableType);
      expect(String(refusal)).toMatch(/callable type/);
    },
    PROGRAM_TIMEOUT,
  );

  it("refuses declarations that import anything but tRPC, or lack the client's API", () => {
    const api =
      "export type AppRouter = {};\nexport declare function createApprovalMatrixClient(): void;\nexport declare function apiErrorCode(): void;\n";
    expect(() => checkDeclarations(`import { TRPCClient } from '@trpc/client';\n${api}`)).not.toThrow();
    expect(() => checkDeclarations(`import { z } from 'zod';\n${api}`)).toThrow(/import zod/);
    expect(() => checkDeclarations(`type X = import("@approvalmatrix/api").AppRouter;\n${api}`)).toThrow(/@approvalmatrix\/api/);
    expect(() => checkDeclarations("export {};")).toThrow(/lack AppRouter/);
  });
});
