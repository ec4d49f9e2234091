import { tenantProcedure } from "../../procedures";
import { importMembersCsv } from "../../services/members/import-members";
import { exportMembersPage, getMember, listMembers, searchMembers } from "../../services/members/read-members";
import { createMember, setMemberActive, updateMember } from "../../services/members/write-members";
import { router } from "../../trpc";
import {
  memberDetail,
  memberExportInput,
  memberExportOutput,
  memberFields,
  memberIdInput,
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
    .mutation(({ ctx, input }) => updateMember(ctx.deps.db, ctx.actor, input)),

  setActive: tenantProcedure("admin")
    .input(memberSetActiveInput)
    .output(memberView)
    .mutation(({ ctx, input }) => setMemberActive(ctx.deps.db, ctx.actor, input.id, input.active)),

  /** CSV upsert by externalRef; reports progress through ctx.onProgress. */
  importCsv: tenantProcedure("admin")
    .input(memberImportInput)
    .mutation(({ ctx, input }) => importMembersCsv(ctx.deps.db, ctx.actor, input.csv, ctx.onProgress)),

  /** One page of the CSV export (header on the first page); the caller streams pages. */
  exportPage: tenantProcedure("admin")
    .input(memberExportInput)
    .output(memberExportOutput)
    .query(({ ctx, input }) => exportMembersPage(ctx.deps.db, ctx.tenantId, input)),
});
