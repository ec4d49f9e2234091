import { tenantOrApiKeyProcedure, tenantProcedure } from "../../procedures";
import {
  apiKeyUsageHistory,
  createApiKey,
  listApiKeys,
  rerollApiKey,
  revokeApiKey,
  setApiKeyDisabled,
  tenantKeyUsage,
  updateApiKey,
} from "../../services/api-keys/api-keys";
import { router } from "../../trpc";
import {
  apiKeyCreateInput,
  apiKeyCreated,
  apiKeyIdInput,
  apiKeyRerollInput,
  apiKeyRerolled,
  apiKeyUpdateInput,
  apiKeyUsageOutput,
  apiKeyView,
} from "./api-keys.schemas";

/** Admins in the admin app, or a key with keys:write over /v1/api-keys. Every change is audited. */
const manage = () => tenantOrApiKeyProcedure("admin", "keys:write");
const tags = ["API keys"];

export const apiKeysRouter = router({
  create: manage()
    .meta({
      successStatus: 201,
      errorCodes: ["conflict"],
      openapi: {
        method: "POST",
        path: "/api-keys",
        summary: "Create an API key",
        description: "The full key is in this answer only.",
        tags,
        protect: true,
      },
    })
    .input(apiKeyCreateInput)
    .output(apiKeyCreated)
    .mutation(({ ctx, input }) => createApiKey(ctx.deps.db, ctx.actor, ctx.deps.apiKeyHashSecret, input)),

  list: manage()
    .meta({ openapi: { method: "GET", path: "/api-keys", summary: "List the tenant's API keys", tags, protect: true } })
    .output(apiKeyView.array())
    .query(({ ctx }) => listApiKeys(ctx.deps.db, ctx.tenantId)),

  update: manage()
    .meta({
      errorCodes: ["not_found", "conflict"],
      openapi: {
        method: "PATCH",
        path: "/api-keys/{id}",
        summary: "Edit an API key",
        description: "Name, scopes, expiry, rate limits, ad-hoc permission. A revoked, expired or rerolled key cannot be edited (409).",
        tags,
        protect: true,
      },
    })
    .input(apiKeyUpdateInput)
    .output(apiKeyView)
    .mutation(({ ctx, input: { id, ...changes } }) => updateApiKey(ctx.deps.db, ctx.actor, id, changes)),

  disable: manage()
    .meta({
      errorCodes: ["not_found", "conflict"],
      openapi: {
        method: "POST",
        path: "/api-keys/{id}/disable",
        summary: "Disable an API key (it can be enabled again)",
        tags,
        protect: true,
      },
    })
    .input(apiKeyIdInput)
    .output(apiKeyView)
    .mutation(({ ctx, input }) => setApiKeyDisabled(ctx.deps.db, ctx.actor, input.id, true)),

  enable: manage()
    .meta({
      errorCodes: ["not_found", "conflict"],
      openapi: { method: "POST", path: "/api-keys/{id}/enable", summary: "Enable a disabled API key", tags, protect: true },
    })
    .input(apiKeyIdInput)
    .output(apiKeyView)
    .mutation(({ ctx, input }) => setApiKeyDisabled(ctx.deps.db, ctx.actor, input.id, false)),

  reroll: manage()
    .meta({
      successStatus: 201,
      errorCodes: ["not_found", "conflict"],
      openapi: {
        method: "POST",
        path: "/api-keys/{id}/reroll",
        summary: "Reroll an API key",
        description:
          "A new key (same name, scopes, limits and expiry) replaces this one, which keeps working for the grace period (none, 1h, 24h, 7d) and then fails on every instance at once. The new key is in this answer only.",
        tags,
        protect: true,
      },
    })
    .input(apiKeyRerollInput)
    .output(apiKeyRerolled)
    .mutation(({ ctx, input }) =>
      rerollApiKey(ctx.deps.db, ctx.actor, ctx.deps.apiKeyHashSecret, input.id, input.grace, ctx.deps.clock.now()),
    ),

  revoke: manage()
    .meta({
      errorCodes: ["not_found"],
      openapi: { method: "POST", path: "/api-keys/{id}/revoke", summary: "Revoke an API key for good", tags, protect: true },
    })
    .input(apiKeyIdInput)
    .output(apiKeyView)
    .mutation(({ ctx, input }) => revokeApiKey(ctx.deps.db, ctx.actor, input.id)),

  /** The keys page's charts: every key's last 30 days in one call (admin app only). */
  usageSummary: tenantProcedure("admin")
    .output(apiKeyUsageOutput.array())
    .query(({ ctx }) => tenantKeyUsage(ctx.deps.db, ctx.tenantId)),

  usage: manage()
    .meta({
      errorCodes: ["not_found"],
      openapi: { method: "GET", path: "/api-keys/{id}/usage", summary: "Calls per day over the last 30 days", tags, protect: true },
    })
    .input(apiKeyIdInput)
    .output(apiKeyUsageOutput)
    .query(async ({ ctx, input }) => ({ keyId: input.id, days: await apiKeyUsageHistory(ctx.deps.db, ctx.tenantId, input.id) })),
});
