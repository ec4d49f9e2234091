import { tenantProcedure } from "../../procedures";
import { createScimToken, listScimTokens, revokeScimToken } from "../../services/directory/scim-tokens";
import { getDirectorySettings, updateDirectorySettings } from "../../services/directory/settings";
import { router } from "../../trpc";
import {
  directorySettingsInput,
  directorySettingsView,
  scimTokenCreateInput,
  scimTokenCreated,
  scimTokenIdInput,
  scimTokenView,
} from "./directory.schemas";

/** Directory sync: SCIM tokens (one per identity provider) and the tenant's mapping settings. */
export const directoryRouter = router({
  settings: tenantProcedure("admin")
    .output(directorySettingsView)
    .query(({ ctx }) => getDirectorySettings(ctx.deps.db, ctx.tenantId)),

  updateSettings: tenantProcedure("admin")
    .input(directorySettingsInput)
    .output(directorySettingsView)
    .mutation(({ ctx, input }) => ctx.deps.db.transaction((tx) => updateDirectorySettings(tx, ctx.actor, input))),

  scimTokens: tenantProcedure("admin")
    .output(scimTokenView.array())
    .query(({ ctx }) => listScimTokens(ctx.deps.db, ctx.tenantId)),

  createScimToken: tenantProcedure("admin")
    .input(scimTokenCreateInput)
    .output(scimTokenCreated)
    .mutation(({ ctx, input }) => createScimToken(ctx.deps.db, ctx.actor, ctx.deps.apiKeyHashSecret, input)),

  revokeScimToken: tenantProcedure("admin")
    .input(scimTokenIdInput)
    .output(scimTokenView)
    .mutation(({ ctx, input }) => revokeScimToken(ctx.deps.db, ctx.actor, input.id)),
});
