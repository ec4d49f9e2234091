import { adminRouter } from "./routers/admin/index";
import { delegationsRouter } from "./routers/delegations/index";
import { decisionLinksRouter } from "./routers/admin/notifications";
import { requestsRouter } from "./routers/requests/index";
import { createCallerFactory, router } from "./trpc";

export const appRouter = router({
  requests: requestsRouter,
  admin: adminRouter,
  delegations: delegationsRouter,
  decisionLinks: decisionLinksRouter,
});

export type AppRouter = typeof appRouter;
export const createCaller = createCallerFactory(appRouter);
