import { tenantProcedure } from "../../procedures";
import { createApiKey, listApiKeys, revokeApiKey } from "../../services/api-keys/api-keys";
import { router } from "../../trpc";
import { apiKeyCreateInput, apiKeyCreated, apiKeyIdInput, apiKeyView } from "./api-keys.schemas";

export const apiKeysRouter = router({
  create: tenantProcedure("admin")
    .input(apiKeyCreateInput)
    .output(apiKeyCreated)
    .mutation(({ ctx, input }) => createApiKey(ctx.deps.db, ctx.actor, ctx.deps.apiKeyHashSecret, input)),

  list: tenantProcedure("admin")
    .output(apiKeyView.array())
    .query(({ ctx }) => listApiKeys(ctx.deps.db, ctx.tenantId)),

  revoke: tenantProcedure("admin")
    .input(apiKeyIdInput)
    .output(apiKeyView)
    .mutation(({ ctx, input }) => revokeApiKey(ctx.deps.db, ctx.actor, input.id)),
});
