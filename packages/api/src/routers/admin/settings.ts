import { AD_HOC_POLICIES } from "@approvalmatrix/core";
import { z } from "zod";
import { tenantProcedure } from "../../procedures";
import { getTenantSettings, updateTenantSettings } from "../../services/settings/tenant-settings";
import { router } from "../../trpc";

const settingsView = z.object({
  adHocRequests: z.enum(AD_HOC_POLICIES).describe("Who may address a request to one approver instead of a matrix."),
});

export const settingsRouter = router({
  get: tenantProcedure("admin")
    .output(settingsView)
    .query(({ ctx }) => getTenantSettings(ctx.deps.db, ctx.tenantId)),

  update: tenantProcedure("owner")
    .input(settingsView.partial().strict())
    .output(settingsView)
    .mutation(({ ctx, input }) => updateTenantSettings(ctx.deps.db, ctx.actor, input)),
});
