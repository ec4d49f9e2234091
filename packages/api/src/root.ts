import { adminRouter } from "./routers/admin/index";
import { eventsRouter } from "./routers/events/list";
import { receiptsRouter } from "./routers/receipts/index";
import { delegationsRouter } from "./routers/delegations/index";
import { decisionLinksRouter } from "./routers/admin/notifications";
import { bootstrapRouter } from "./routers/bootstrap/index";
import { requestsRouter } from "./routers/requests/index";
import { webhookEndpointsRouter } from "./routers/webhooks/index";
import { createCallerFactory, router } from "./trpc";

export const appRouter = router({
  requests: requestsRouter,
  admin: adminRouter,
  events: eventsRouter,
  webhookEndpoints: webhookEndpointsRouter,
  receipts: receiptsRouter,
  delegations: delegationsRouter,
  decisionLinks: decisionLinksRouter,
  bootstrap: bootstrapRouter,
});

export type AppRouter = typeof appRouter;
export const createCaller = createCallerFactory(appRouter);
