/**
 * Builds the publishable package into dist/:
 *   index.js (ESM), index.cjs (CommonJS)  — src/index.ts bundled by esbuild; @trpc/client stays a peer.
 *   index.d.ts, index.d.cts               — one self-contained declaration file.
 *
 * Why the declarations are printed rather than bundled: the server's `AppRouter` type carries its
 * context (the drizzle database, postgres.js, Redis), its meta (trpc-to-openapi) and zod, so a
 * declaration bundler (rollup-plugin-dts, tsup's dts) either leaves those imports in or has to
 * inline half the server. The client only needs each procedure's input, output and the error
 * shape. So this script asks the TypeScript checker for exactly those types of `src/app-router.ts`
 * (whatever the routers are at build time), prints them as plain literal types into a staging copy
 * of `app-router.ts`, and lets dts-bundle-generator bundle that with `index.ts` into one file whose
 * only imports are `@trpc/client` and `@trpc/server`. A type it cannot print faithfully (a
 * function, a class, a generic) fails the build instead of leaking an import.
 */
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { generateDtsBundle } from "dts-bundle-generator";
import { build } from "esbuild";
import ts from "typescript";

const packageDir = join(dirname(fileURLToPath(import.meta.url)), "..");
const distDir = join(packageDir, "dist");
// Inside the package (so @trpc/* resolve as from src/), not in node_modules (whose files
// dts-bundle-generator would treat as a library's and leave out); removed once the build is done.
const stagingDir = join(distDir, ".staging");
/** The only modules the published declarations may import. */
const ALLOWED_IMPORTS = new Set(["@trpc/client", "@trpc/server"]);

export class UnprintableType extends Error {}

/** Prints the `AppRouter` of `entry` (src/app-router.ts) as a type made of literals and tRPC's own types. */
export function printContract(entry = join(packageDir, "src", "app-router.ts")): string {
  const configPath = join(packageDir, "tsconfig.json");
  const config = ts.getParsedCommandLineOfConfigFile(configPath, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} });
  if (!config) throw new Error(`cannot read ${configPath}`);
  const program = ts.createProgram({ rootNames: [entry], options: config.options });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(entry);
  if (!source) throw new Error(`cannot load ${entry}`);
  const moduleSymbol = checker.getSymbolAtLocation(source);
  const exported = moduleSymbol && checker.getExportsOfModule(moduleSymbol).find((s) => s.name === "AppRouter");
  if (!exported) throw new Error(`${entry} exports no AppRouter`);
  const router = checker.getDeclaredTypeOfSymbol(exported);

  const prop = (type: ts.Type, name: string): ts.Type => {
    const symbol = checker.getPropertyOfType(type, name);
    if (!symbol) throw new UnprintableType(`no property ${name} on ${checker.typeToString(type)}`);
    return checker.getTypeOfSymbol(symbol);
  };
  const key = (name: string) => (/^[A-Za-z_$][\w$]*$/.test(name) ? name : JSON.stringify(name));

  const print = (type: ts.Type, indent: string, seen: readonly ts.Type[]): string => {
    if (seen.includes(type)) throw new UnprintableType(`recursive type ${checker.typeToString(type)}`);
    const inner = indent + "  ";
    const next = [...seen, type];
    const f = type.flags;
    if (f & ts.TypeFlags.Unknown) return "unknown";
    if (f & ts.TypeFlags.String) return "string";
    if (f & ts.TypeFlags.Number) return "number";
    if (f & ts.TypeFlags.Boolean) return "boolean";
    if (f & ts.TypeFlags.BigInt) return "bigint";
    if (f & ts.TypeFlags.Null) return "null";
    if (f & ts.TypeFlags.Undefined) return "undefined";
    if (f & ts.TypeFlags.Void) return "void";
    if (f & ts.TypeFlags.Never) return "never";
    if (type.isStringLiteral()) return JSON.stringify(type.value);
    if (type.isNumberLiteral()) return String(type.value);
    if (f & ts.TypeFlags.BooleanLiteral) return checker.typeToString(type);
    if (type.isUnion()) {
      const parts = type.types.map((t) => print(t, indent, next));
      // `boolean` is `false | true` inside a union: print it back as one word.
      const bools = ["false", "true"].filter((b) => parts.includes(b));
      const rest = parts.filter((p) => !(bools.length === 2 && (p === "false" || p === "true")));
      return [...rest, ...(bools.length === 2 ? ["boolean"] : [])].join(" | ");
    }
    if (type.isIntersection()) return type.types.map((t) => `(${print(t, indent, next)})`).join(" & ");
    if (f & ts.TypeFlags.Object) {
      if (checker.isArrayType(type)) {
        const [element] = checker.getTypeArguments(type as ts.TypeReference);
        if (!element) throw new Error(`an array type without an element type: ${checker.typeToString(type)}`);
        const readonly = type.getSymbol()?.name === "ReadonlyArray" ? "readonly " : "";
        return `${readonly}Array<${print(element, indent, next)}>`.replace(/^readonly Array/, "ReadonlyArray");
      }
      if (checker.isTupleType(type)) {
        return `[${checker
          .getTypeArguments(type as ts.TypeReference)
          .map((t) => print(t, indent, next))
          .join(", ")}]`;
      }
      if (type.getSymbol()?.name === "Date") return "Date";
      if (type.getCallSignatures().length || type.getConstructSignatures().length) {
        throw new UnprintableType(`callable type ${checker.typeToString(type)}`);
      }
      const members: string[] = [];
      for (const info of checker.getIndexInfosOfType(type)) {
        members.push(`${inner}[key: ${print(info.keyType, inner, next)}]: ${print(info.type, inner, next)};`);
      }
      for (const symbol of checker.getPropertiesOfType(type)) {
        const optional = symbol.flags & ts.SymbolFlags.Optional ? "?" : "";
        members.push(`${inner}${key(symbol.name)}${optional}: ${print(checker.getTypeOfSymbol(symbol), inner, next)};`);
      }
      return members.length ? `{\n${members.join("\n")}\n${indent}}` : "{}";
    }
    throw new UnprintableType(`type ${checker.typeToString(type)} (flags ${f})`);
  };

  const procedureKinds: Record<string, string> = { query: "TRPCQueryProcedure", mutation: "TRPCMutationProcedure" };
  const printRecord = (record: ts.Type, path: string, indent: string): string => {
    const inner = indent + "  ";
    const members = checker.getPropertiesOfType(record).map((symbol) => {
      const value = checker.getTypeOfSymbol(symbol);
      const at = path ? `${path}.${symbol.name}` : symbol.name;
      if (!checker.getPropertyOfType(value, "_def")) return `${inner}${key(symbol.name)}: ${printRecord(value, at, inner)};`;
      const def = prop(value, "_def");
      const kind = prop(def, "type");
      const kindName = kind.isStringLiteral() ? kind.value : "?";
      const wrapper = procedureKinds[kindName];
      if (!wrapper) throw new UnprintableType(`${at}: ${kindName} procedures are not supported by the published client`);
      const types = prop(def, "$types");
      const deeper = inner + "  ";
      return [
        `${inner}${key(symbol.name)}: ${wrapper}<{`,
        `${deeper}input: ${print(prop(types, "input"), deeper, [])};`,
        `${deeper}output: ${print(prop(types, "output"), deeper, [])};`,
        `${deeper}meta: object;`,
        `${inner}}>;`,
      ].join("\n");
    });
    return `{\n${members.join("\n")}\n${indent}}`;
  };

  const def = prop(router, "_def");
  const rootTypes = prop(prop(def, "_config"), "$types");
  const transformer = prop(rootTypes, "transformer");
  if (!(transformer.flags & ts.TypeFlags.BooleanLiteral) || checker.typeToString(transformer) !== "false") {
    throw new UnprintableType("the router uses a data transformer: the client would need it too");
  }
  return [
    "// Generated by scripts/build.ts from the server's router at build time: do not edit.",
    'import type { TRPCBuiltRouter, TRPCMutationProcedure, TRPCQueryProcedure } from "@trpc/server";',
    "",
    `/** The body of every failed call: \`data.apiCode\` is the API's machine code. */`,
    `type ErrorShape = ${print(prop(rootTypes, "errorShape"), "", [])};`,
    "",
    `/** The procedures an API key can call, with their inputs and outputs. */`,
    `export type AppRouter = TRPCBuiltRouter<`,
    `  { ctx: object; meta: object; errorShape: ErrorShape; transformer: false },`,
    `  ${printRecord(prop(def, "record"), "", "  ")}`,
    `>;`,
    "",
  ].join("\n");
}

/** Fails when the declarations miss the API or import anything but tRPC: the consumer must not need the server. */
export function checkDeclarations(declarations: string): void {
  for (const name of ["AppRouter", "createApprovalMatrixClient", "apiErrorCode"]) {
    if (!new RegExp(`export (declare function|type) ${name}\\b`).test(declarations)) throw new Error(`the declarations lack ${name}`);
  }
  const specifiers = [...declarations.matchAll(/(?:from\s+|import\s*\(\s*)["']([^"']+)["']/g)].flatMap((m) => m[1] ?? []);
  const foreign = specifiers.filter((s) => !ALLOWED_IMPORTS.has(s));
  if (foreign.length) throw new Error(`the declarations import ${[...new Set(foreign)].join(", ")}`);
}

async function main() {
  rmSync(distDir, { recursive: true, force: true });
  mkdirSync(stagingDir, { recursive: true });
  mkdirSync(distDir, { recursive: true });

  // 1. The contract, and a staging copy of the entry point that imports it instead of the server.
  writeFileSync(join(stagingDir, "app-router.ts"), printContract());
  copyFileSync(join(packageDir, "src", "index.ts"), join(stagingDir, "index.ts"));
  writeFileSync(
    join(stagingDir, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        target: "ES2022",
        lib: ["ES2023", "DOM"],
        module: "ESNext",
        moduleResolution: "Bundler",
        strict: true,
        skipLibCheck: true,
        declaration: true,
        types: [],
      },
      files: ["index.ts", "app-router.ts"],
    }),
  );

  // 2. One declaration file; the staging copy must typecheck on its own (no server in sight).
  const [declarations] = generateDtsBundle(
    [{ filePath: join(stagingDir, "index.ts"), output: { noBanner: true, exportReferencedTypes: false } }],
    {
      preferredConfigPath: join(stagingDir, "tsconfig.json"),
    },
  );
  if (!declarations) throw new Error("dts-bundle-generator produced nothing");
  checkDeclarations(declarations);
  writeFileSync(join(distDir, "index.d.ts"), declarations);
  // The same file serves require(): its only imports are packages, which resolve per mode.
  writeFileSync(join(distDir, "index.d.cts"), declarations);

  // 3. JavaScript: one file per module format; type imports vanish, @trpc/client stays external.
  for (const [format, file] of [
    ["esm", "index.js"],
    ["cjs", "index.cjs"],
  ] as const) {
    await build({
      entryPoints: [join(packageDir, "src", "index.ts")],
      outfile: join(distDir, file),
      bundle: true,
      format,
      platform: "neutral",
      target: "es2022",
      external: ["@trpc/client", "@trpc/server"],
      logLevel: "warning",
    });
  }
  rmSync(stagingDir, { recursive: true, force: true });
  const size = readFileSync(join(distDir, "index.d.ts")).byteLength;
  console.log(`@approvalmatrix/client: dist/ built (index.d.ts ${(size / 1024).toFixed(1)} KiB)`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
