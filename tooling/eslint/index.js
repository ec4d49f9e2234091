import path from "node:path";
import js from "@eslint/js";
import tseslint from "typescript-eslint";

/** The repository root: every package's tsconfig.json is found from here by the project service. */
const tsconfigRootDir = path.resolve(import.meta.dirname, "../..");

/** The workspace's lint rules: correctness, not style (Prettier owns formatting). */
export default tseslint.config(
  { ignores: ["**/node_modules/**", "**/build/**", "**/dist/**", "**/.data/**", "**/test-results/**", "**/.turbo/**"] },
  js.configs.recommended,
  // Type-aware rules: each file is checked with the types of the tsconfig.json that includes it.
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir,
      },
    },
    rules: {
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      // A `!` is an unchecked claim; narrow, or fail with a message (`must` in tests).
      "@typescript-eslint/no-non-null-assertion": "error",
      "@typescript-eslint/no-unnecessary-condition": "error",
    },
  },
  {
    // Remix answers a loader or action early by throwing a Response (`redirect(…)`, `data(…, { status })`,
    // `new Response(…)`): that is its documented control flow, not a lost stack trace.
    files: ["apps/web/app/**/*.ts", "apps/web/app/**/*.tsx"],
    rules: {
      "@typescript-eslint/only-throw-error": [
        "error",
        {
          allow: [
            { from: "lib", name: "Response" },
            { from: "package", package: "@remix-run/server-runtime", name: "TypedResponse" },
            { from: "package", package: "@remix-run/router", name: "DataWithResponseInit" },
          ],
        },
      ],
    },
  },
  {
    // Plain Node scripts (the test runner, configs): no types to check.
    files: ["**/*.js", "**/*.mjs"],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { process: "readonly", console: "readonly", URL: "readonly" },
    },
  },
  {
    // Tests read untyped JSON bodies; `any` there is the honest type, so the no-unsafe-* family is off.
    // no-non-null-assertion stays on: tests narrow with `must(x)` instead.
    files: ["**/*.test.ts", "**/test/**/*.ts"],
    rules: {
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-return": "off",
    },
  },
);
