import type { AppRouter } from "@approvalmatrix/api";
import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";

/**
 * The shapes the admin app gets from the API, derived from the router so that a change to a
 * procedure's schema shows up here as a type error instead of a page that silently drifts.
 * Type-only: nothing of the API's server code reaches the browser bundle.
 */
export type RouterOutputs = inferRouterOutputs<AppRouter>;
export type RouterInputs = inferRouterInputs<AppRouter>;

/** Where a sample request routes against a draft matrix (`admin.matrices.preview`). */
export type MatrixPreview = RouterOutputs["admin"]["matrices"]["preview"];
/** One matrix with its stages, as the editor loads it (`admin.matrices.get`). */
export type MatrixDetail = RouterOutputs["admin"]["matrices"]["get"];
/** The matrix the editor sends to create, update and preview. */
export type MatrixInput = RouterInputs["admin"]["matrices"]["create"];
/** What a CSV import of members reports (`admin.members.importCsv`). */
export type MemberImportResult = RouterOutputs["admin"]["members"]["importCsv"];
/** What a CSV import would do (`admin.members.previewCsv`). */
export type MemberImportPreview = RouterOutputs["admin"]["members"]["previewCsv"];
/** One member with the names of their manager and sign-in user (`admin.members.get`). */
export type MemberDetail = RouterOutputs["admin"]["members"]["get"];
