/**
 * /v1/webhook-endpoints: a tenant's webhook receivers over REST (scope webhooks:write). The admin
 * app's procedures (routers/admin/webhooks.ts) call the same services.
 */
import { apiKeyProcedure } from "../../procedures";
import { listDeliveries, pingEndpoint, replayFailedDeliveries, resendDelivery } from "../../services/webhooks/deliveries";
import {
  createEndpoint,
  deleteEndpoint,
  disableEndpoint,
  enableEndpoint,
  getEndpoint,
  listEndpoints,
  rotateEndpointSecret,
  updateEndpoint,
} from "../../services/webhooks/endpoints";
import { router } from "../../trpc";
import {
  createEndpointInput,
  deletedOutput,
  deliveryPage,
  disableEndpointInput,
  endpointIdInput,
  listDeliveriesInput,
  pingOutput,
  replayInput,
  replayOutput,
  resendInput,
  rotateSecretInput,
  updateEndpointInput,
  webhookDeliveryView,
  webhookEndpointView,
  webhookEndpointWithSecret,
} from "./schemas";

const procedure = apiKeyProcedure("webhooks:write");
const tags = ["Webhooks"];
const base = "/webhook-endpoints";
const one = `${base}/{endpointId}`;

export const webhookEndpointsRouter = router({
  create: procedure
    .meta({
      openapi: {
        method: "POST",
        path: base,
        summary: "Create a webhook endpoint",
        description:
          "Registers a receiver for the tenant's events. The answer carries the signing secret (whsec_…) once: verify every delivery with it (Standard Webhooks). Outside production, http and loopback URLs are accepted for development; in production only https to public addresses.",
        tags,
        protect: true,
      },
      errorCodes: ["webhook_url_refused"],
      successStatus: 201,
    })
    .input(createEndpointInput)
    .output(webhookEndpointWithSecret)
    .mutation(({ ctx, input }) => createEndpoint(ctx.deps, ctx.actor, input)),

  list: procedure
    .meta({ openapi: { method: "GET", path: base, summary: "List webhook endpoints", tags, protect: true } })
    .output(webhookEndpointView.array())
    .query(({ ctx }) => listEndpoints(ctx.deps.db, ctx.tenantId)),

  get: procedure
    .meta({ openapi: { method: "GET", path: one, summary: "Get a webhook endpoint", tags, protect: true }, errorCodes: ["not_found"] })
    .input(endpointIdInput)
    .output(webhookEndpointView)
    .query(({ ctx, input }) => getEndpoint(ctx.deps.db, ctx.tenantId, input.endpointId)),

  update: procedure
    .meta({
      openapi: { method: "PATCH", path: one, summary: "Change a webhook endpoint's URL, description or event types", tags, protect: true },
      errorCodes: ["not_found", "webhook_url_refused"],
    })
    .input(updateEndpointInput)
    .output(webhookEndpointView)
    .mutation(({ ctx, input }) => updateEndpoint(ctx.deps, ctx.actor, input.endpointId, input)),

  delete: procedure
    .meta({
      openapi: { method: "DELETE", path: one, summary: "Delete a webhook endpoint and its delivery log", tags, protect: true },
      errorCodes: ["not_found"],
    })
    .input(endpointIdInput)
    .output(deletedOutput)
    .mutation(({ ctx, input }) => deleteEndpoint(ctx.deps.db, ctx.actor, input.endpointId)),

  disable: procedure
    .meta({
      openapi: {
        method: "POST",
        path: `${one}/disable`,
        summary: "Disable a webhook endpoint",
        description: "Nothing is sent to it until it is enabled again; deliveries due meanwhile fail and can be replayed.",
        tags,
        protect: true,
      },
      errorCodes: ["not_found"],
    })
    .input(disableEndpointInput)
    .output(webhookEndpointView)
    .mutation(({ ctx, input }) => disableEndpoint(ctx.deps.db, ctx.actor, input.endpointId, input.reason)),

  enable: procedure
    .meta({
      openapi: { method: "POST", path: `${one}/enable`, summary: "Enable a webhook endpoint", tags, protect: true },
      errorCodes: ["not_found"],
    })
    .input(endpointIdInput)
    .output(webhookEndpointView)
    .mutation(({ ctx, input }) => enableEndpoint(ctx.deps.db, ctx.actor, input.endpointId)),

  rotateSecret: procedure
    .meta({
      openapi: {
        method: "POST",
        path: `${one}/rotate-secret`,
        summary: "Rotate the signing secret",
        description:
          "Answers with a new secret, shown once. The previous secret keeps signing beside it (two space-separated signatures in webhook-signature) for previousSecretExpiresInSeconds (default 24 h), so receivers can switch without losing a delivery.",
        tags,
        protect: true,
      },
      errorCodes: ["not_found"],
    })
    .input(rotateSecretInput)
    .output(webhookEndpointWithSecret)
    .mutation(({ ctx, input }) =>
      rotateEndpointSecret(
        ctx.deps,
        ctx.actor,
        input.endpointId,
        ctx.deps.clock.now(),
        (input.previousSecretExpiresInSeconds ?? 86_400) * 1000,
      ),
    ),

  test: procedure
    .meta({
      openapi: {
        method: "POST",
        path: `${one}/test`,
        summary: "Send a test ping",
        description:
          "Sends one signed `webhook.test` message now and answers with what the receiver replied (kept in the delivery log). A ping is not retried.",
        tags,
        protect: true,
      },
      errorCodes: ["not_found"],
    })
    .input(endpointIdInput)
    .output(pingOutput)
    .mutation(({ ctx, input }) => pingEndpoint(ctx.deps, ctx.actor, input.endpointId, ctx.deps.clock.now())),

  deliveries: procedure
    .meta({
      openapi: {
        method: "GET",
        path: `${one}/deliveries`,
        summary: "An endpoint's delivery log",
        description:
          "Newest first, with every attempt: response status, the first KB of the answer, latency. Cursor pagination as on /requests.",
        tags,
        protect: true,
      },
      errorCodes: ["not_found"],
    })
    .input(listDeliveriesInput)
    .output(deliveryPage)
    .query(({ ctx, input }) => listDeliveries(ctx.deps.db, ctx.tenantId, input)),

  resend: procedure
    .meta({
      openapi: {
        method: "POST",
        path: `${one}/deliveries/{deliveryId}/resend`,
        summary: "Send one delivery again",
        description: "Queues the delivery now, with the same webhook-id and body, and a fresh round of retries.",
        tags,
        protect: true,
      },
      errorCodes: ["not_found"],
    })
    .input(resendInput)
    .output(webhookDeliveryView)
    .mutation(async ({ ctx, input }) => {
      const delivery = await resendDelivery(ctx.deps.db, ctx.actor, input.endpointId, input.deliveryId, ctx.deps.clock.now());
      ctx.deps.webhooksDue?.();
      return delivery;
    }),

  replay: procedure
    .meta({
      openapi: {
        method: "POST",
        path: `${one}/replay`,
        summary: "Send every failed delivery since a time again",
        tags,
        protect: true,
      },
      errorCodes: ["not_found"],
    })
    .input(replayInput)
    .output(replayOutput)
    .mutation(async ({ ctx, input }) => {
      const replayed = await replayFailedDeliveries(ctx.deps.db, ctx.actor, input.endpointId, input.since, ctx.deps.clock.now());
      ctx.deps.webhooksDue?.();
      return replayed;
    }),
});
