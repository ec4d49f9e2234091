import { adminRouter } from "./routers/admin/index";
import { receiptsRouter } from "./routers/receipts/index";
import { requestsRouter } from "./routers/requests/index";
import { createCallerFactory, router } from "./trpc";

export const appRouter = router({
  requests: requestsRouter,
  admin: adminRouter,
  receipts: receiptsRouter,
});

export type AppRouter = typeof appRouter;
export const createCaller = createCallerFactory(appRouter);
