import { adminRouter } from "./routers/admin/index";
import { bootstrapRouter } from "./routers/bootstrap/index";
import { requestsRouter } from "./routers/requests/index";
import { createCallerFactory, router } from "./trpc";

export const appRouter = router({
  requests: requestsRouter,
  admin: adminRouter,
  bootstrap: bootstrapRouter,
});

export type AppRouter = typeof appRouter;
export const createCaller = createCallerFactory(appRouter);
