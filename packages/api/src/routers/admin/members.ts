import { tenantProcedure } from "../../procedures";
import { importMembersCsv, listMemberImports, previewMembersCsv } from "../../services/members/import-members";
import { listUsers } from "../../services/users/users";
import { bulkDeactivateMembers, lookupMembers, memberOverview } from "../../services/members/member-overview";
import { exportMembersPage, getMember, listDepartments, listMembers, searchMembers } from "../../services/members/read-members";
import { deactivateMember } from "../../services/members/deactivate-member";
import { assertEditableByAdmin } from "../../services/members/synced";
import { createMember, setMemberActive, updateMember } from "../../services/members/write-members";
import { router } from "../../trpc";
import { z } from "zod";
import {
  memberDetail,
  memberExportInput,
  memberExportOutput,
  memberFields,
  memberIdInput,
  memberBulkInput,
  memberImportHistoryOutput,
  memberLookupInput,
  memberLookupOutput,
  memberOverviewOutput,
  memberImportInput,
  memberListInput,
  memberListOutput,
  memberSearchInput,
  memberSearchOutput,
  memberSetActiveInput,
  memberUpdateInput,
  memberView,
} from "./members.schemas";

export const membersRouter = router({
  /** The member page: direct reports, approvals waiting on them, requests they submitted. */
  overview: tenantProcedure("admin")
    .input(memberIdInput)
    .output(memberOverviewOutput)
    .query(({ ctx, input }) => memberOverview(ctx.deps.db, ctx.tenantId, input.id)),

  /** The manager picker: active members whose name or externalRef starts with q. */
  lookup: tenantProcedure("admin")
    .input(memberLookupInput)
    .output(memberLookupOutput)
    .query(({ ctx, input }) => lookupMembers(ctx.deps.db, ctx.tenantId, input.q)),

  departments: tenantProcedure("admin")
    .output(z.array(z.string()))
    .query(({ ctx }) => listDepartments(ctx.deps.db, ctx.tenantId)),

  bulkDeactivate: tenantProcedure("admin")
    .input(memberBulkInput)
    .output(z.object({ deactivated: z.number().int() }))
    .mutation(({ ctx, input }) => bulkDeactivateMembers(ctx.deps.db, ctx.actor, input.ids, ctx.deps.clock.now())),

  create: tenantProcedure("admin")
    .input(memberFields)
    .output(memberView)
    .mutation(({ ctx, input }) => createMember(ctx.deps.db, ctx.actor, input)),

  list: tenantProcedure("admin")
    .input(memberListInput)
    .output(memberListOutput)
    .query(({ ctx, input }) => listMembers(ctx.deps.db, ctx.tenantId, input)),

  search: tenantProcedure("admin")
    .input(memberSearchInput)
    .output(memberSearchOutput)
    .query(({ ctx, input }) => searchMembers(ctx.deps.db, ctx.tenantId, input)),

  get: tenantProcedure("admin")
    .input(memberIdInput)
    .output(memberDetail)
    .query(({ ctx, input }) => getMember(ctx.deps.db, ctx.tenantId, input.id)),

  update: tenantProcedure("admin")
    .input(memberUpdateInput)
    .output(memberView)
    .mutation(async ({ ctx, input }) => {
      await assertEditableByAdmin(ctx.deps.db, ctx.tenantId, input.id, input);
      return updateMember(ctx.deps.db, ctx.actor, input);
    }),

  setActive: tenantProcedure("admin")
    .input(memberSetActiveInput)
    .output(memberView)
    .mutation(async ({ ctx, input }) => {
      await assertEditableByAdmin(ctx.deps.db, ctx.tenantId, input.id, { active: input.active });
      // Deactivating re-points the member's open approvals per the tenant's directory setting.
      if (!input.active) return (await deactivateMember(ctx.deps.db, ctx.actor, input.id, ctx.deps.clock.now())).member;
      return setMemberActive(ctx.deps.db, ctx.actor, input.id, true);
    }),

  /** CSV upsert by externalRef; reports progress through ctx.onProgress. */
  importCsv: tenantProcedure("admin")
    .input(memberImportInput)
    .mutation(({ ctx, input }) => importMembersCsv(ctx.deps.db, ctx.actor, input.csv, ctx.onProgress, input)),

  /** What importCsv would do with the same input: counts, changed fields, deactivations. Writes nothing. */
  previewCsv: tenantProcedure("admin")
    .input(memberImportInput)
    .mutation(({ ctx, input }) => previewMembersCsv(ctx.deps.db, ctx.tenantId, input.csv, input, ctx.onProgress)),

  /** The tenant's imports, newest first: who, when, which file, what it did, its errors. */
  importHistory: tenantProcedure("admin")
    .output(memberImportHistoryOutput)
    .query(async ({ ctx }) => {
      const [imports, users] = await Promise.all([listMemberImports(ctx.deps.db, ctx.tenantId), listUsers(ctx.deps.db, ctx.tenantId)]);
      const names = new Map(users.map((u) => [u.id, u.name]));
      return imports.map((i) => ({ ...i, actorName: i.actorType === "user" ? (names.get(i.actorId) ?? null) : null }));
    }),

  /** One page of the CSV export (header on the first page); the caller streams pages. */
  exportPage: tenantProcedure("admin")
    .input(memberExportInput)
    .output(memberExportOutput)
    .query(({ ctx, input }) => exportMembersPage(ctx.deps.db, ctx.tenantId, input)),
});
