import { MEMBER_CSV_COLUMNS, MEMBER_IMPORT_MAX_BYTES, MEMBER_SORTS, SORT_DIRECTIONS } from "@approvalmatrix/core";
import { z } from "zod";

export const memberView = z.object({
  id: z.string(),
  name: z.string(),
  email: z.string().nullable(),
  externalRef: z.string(),
  department: z.string().nullable(),
  managerId: z.string().nullable(),
  active: z.boolean(),
});

/** A member with the names the admin app shows beside the ids. */
export const memberDetail = memberView.extend({
  managerRef: z.string().nullable(),
  managerName: z.string().nullable(),
  userId: z.string().nullable(),
  userEmail: z.string().nullable(),
  syncedFrom: z.string().nullable().describe("The identity provider that syncs this member (SCIM); its fields are read-only here."),
  updatedAt: z.iso.datetime(),
});

export const memberFields = z.strictObject({
  name: z.string().trim().min(1).max(200),
  email: z.email().nullish(),
  externalRef: z.string().trim().min(1).max(200),
  department: z.string().trim().min(1).max(200).nullish(),
  managerRef: z.string().trim().min(1).max(200).nullish().describe("The manager's externalRef."),
});

export const memberUpdateInput = memberFields.extend({
  id: z.string().min(1),
  userId: z.string().min(1).nullish().describe("The sign-in user this member decides as."),
});

const pageInput = {
  search: z.string().trim().max(200).optional(),
  limit: z.number().int().min(1).max(200).default(50),
  after: z.string().max(200).optional().describe("The nextCursor of the previous page (with the same search, filters and sort)."),
  sort: z.enum(MEMBER_SORTS).default("externalRef").describe("The column to sort by; ties are broken by externalRef."),
  direction: z.enum(SORT_DIRECTIONS).default("asc"),
};

export const memberListInput = z.object(pageInput);
export const memberListOutput = z.object({ members: z.array(memberView), nextCursor: z.string().nullable() });

export const memberSearchInput = z.object({
  ...pageInput,
  status: z.enum(["active", "inactive", "all"]).default("all"),
  department: z.string().trim().min(1).max(200).optional(),
  managerRef: z.string().trim().min(1).max(200).optional().describe("Only the direct reports of this manager."),
});

export const memberOverviewOutput = z.object({
  directReports: z.array(z.object({ id: z.string(), name: z.string(), externalRef: z.string(), active: z.boolean() })),
  openApprovals: z.array(
    z.object({ id: z.string(), title: z.string(), status: z.string(), createdAt: z.iso.datetime(), stageName: z.string() }),
  ),
  submitted: z.array(z.object({ id: z.string(), title: z.string(), status: z.string(), createdAt: z.iso.datetime() })),
});
export const memberLookupInput = z.object({ q: z.string().trim().min(1).max(200) });
export const memberLookupOutput = z.array(z.object({ id: z.string(), name: z.string(), externalRef: z.string() }));
export const memberBulkInput = z.object({ ids: z.array(z.string().min(1)).min(1).max(500) });
export const memberSearchOutput = z.object({ members: z.array(memberDetail), nextCursor: z.string().nullable(), total: z.number().int() });

export const memberIdInput = z.object({ id: z.string().min(1) });
export const memberSetActiveInput = z.object({ id: z.string().min(1), active: z.boolean() });

export const memberImportInput = z.object({
  csv: z.string().max(MEMBER_IMPORT_MAX_BYTES),
  mapping: z
    .partialRecord(z.enum(MEMBER_CSV_COLUMNS), z.string().trim().min(1).max(200))
    .optional()
    .describe("The file's header for each column, when it differs from ours."),
  deactivateMissing: z.boolean().optional().describe("Deactivate active members missing from the file (not those synced over SCIM)."),
  fileName: z.string().trim().max(300).optional(),
});

export const memberImportHistoryOutput = z.array(
  z.object({
    id: z.string(),
    actorType: z.string(),
    actorId: z.string(),
    actorName: z.string().nullable(),
    fileName: z.string().nullable(),
    status: z.enum(["applied", "refused"]),
    rows: z.number().int(),
    created: z.number().int(),
    updated: z.number().int(),
    unchanged: z.number().int(),
    deactivated: z.number().int(),
    errorCount: z.number().int(),
    errors: z.array(z.object({ line: z.number().int(), field: z.string(), message: z.string() })),
    createdAt: z.iso.datetime(),
  }),
);

export const memberExportInput = z.object({
  after: z.string().max(200).optional(),
  limit: z.number().int().min(1).max(10_000).default(5000),
});
export const memberExportOutput = z.object({ csv: z.string(), nextCursor: z.string().nullable() });
