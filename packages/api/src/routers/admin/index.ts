import { router } from "../../trpc";
import { apiKeysRouter } from "./api-keys";
import { auditRouter } from "./audit";
import { directoryRouter } from "./directory";
import { matricesRouter } from "./matrices";
import { membersRouter } from "./members";
import { adminReceiptsRouter } from "./receipts";
import { notificationsRouter } from "./notifications";
import { adminDelegationsRouter } from "../delegations/index";
import { adminRequestsRouter } from "./requests";
import { settingsRouter } from "./settings";
import { usersRouter } from "./users";
import { adminWebhooksRouter } from "./webhooks";

export const adminRouter = router({
  apiKeys: apiKeysRouter,
  members: membersRouter,
  matrices: matricesRouter,
  users: usersRouter,
  requests: adminRequestsRouter,
  audit: auditRouter,
  webhooks: adminWebhooksRouter,
  receipts: adminReceiptsRouter,
  directory: directoryRouter,
  notifications: notificationsRouter,
  delegations: adminDelegationsRouter,
  settings: settingsRouter,
});
