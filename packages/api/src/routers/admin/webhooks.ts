/** The admin app's webhooks pages: the same services as /v1/webhook-endpoints, for admins and owners. */
import { tenantProcedure } from "../../procedures";
import {
  deliveryQueueStats,
  listDeliveries,
  pingEndpoint,
  replayFailedDeliveries,
  resendDelivery,
} from "../../services/webhooks/deliveries";
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
  deliveryQueueOutput,
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
} from "../webhooks/schemas";

const admin = tenantProcedure("admin");

export const adminWebhooksRouter = router({
  list: admin.output(webhookEndpointView.array()).query(({ ctx }) => listEndpoints(ctx.deps.db, ctx.tenantId)),
  get: admin
    .input(endpointIdInput)
    .output(webhookEndpointView)
    .query(({ ctx, input }) => getEndpoint(ctx.deps.db, ctx.tenantId, input.endpointId)),
  create: admin
    .input(createEndpointInput)
    .output(webhookEndpointWithSecret)
    .mutation(({ ctx, input }) => createEndpoint(ctx.deps, ctx.actor, input)),
  update: admin
    .input(updateEndpointInput)
    .output(webhookEndpointView)
    .mutation(({ ctx, input }) => updateEndpoint(ctx.deps, ctx.actor, input.endpointId, input)),
  delete: admin
    .input(endpointIdInput)
    .output(deletedOutput)
    .mutation(({ ctx, input }) => deleteEndpoint(ctx.deps.db, ctx.actor, input.endpointId)),
  disable: admin
    .input(disableEndpointInput)
    .output(webhookEndpointView)
    .mutation(({ ctx, input }) => disableEndpoint(ctx.deps.db, ctx.actor, input.endpointId, input.reason)),
  enable: admin
    .input(endpointIdInput)
    .output(webhookEndpointView)
    .mutation(({ ctx, input }) => enableEndpoint(ctx.deps.db, ctx.actor, input.endpointId)),
  rotateSecret: admin
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
  test: admin
    .input(endpointIdInput)
    .output(pingOutput)
    .mutation(({ ctx, input }) => pingEndpoint(ctx.deps, ctx.actor, input.endpointId, ctx.deps.clock.now())),
  /** The tenant's deliveries not settled yet, and how late the oldest due one is (the Webhooks page). */
  queue: admin.output(deliveryQueueOutput).query(({ ctx }) => deliveryQueueStats(ctx.deps.db, ctx.deps.clock.now(), ctx.tenantId)),
  deliveries: admin
    .input(listDeliveriesInput)
    .output(deliveryPage)
    .query(({ ctx, input }) => listDeliveries(ctx.deps.db, ctx.tenantId, input)),
  resend: admin
    .input(resendInput)
    .output(webhookDeliveryView)
    .mutation(async ({ ctx, input }) => {
      const delivery = await resendDelivery(ctx.deps.db, ctx.actor, input.endpointId, input.deliveryId, ctx.deps.clock.now());
      ctx.deps.webhooksDue?.();
      return delivery;
    }),
  replay: admin
    .input(replayInput)
    .output(replayOutput)
    .mutation(async ({ ctx, input }) => {
      const replayed = await replayFailedDeliveries(ctx.deps.db, ctx.actor, input.endpointId, input.since, ctx.deps.clock.now());
      ctx.deps.webhooksDue?.();
      return replayed;
    }),
});
