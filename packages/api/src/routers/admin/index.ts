import { router } from "../../trpc";
import { apiKeysRouter } from "./api-keys";
import { auditRouter } from "./audit";
import { matricesRouter } from "./matrices";
import { membersRouter } from "./members";
import { adminRequestsRouter } from "./requests";
import { settingsRouter } from "./settings";
import { usersRouter } from "./users";

export const adminRouter = router({
  apiKeys: apiKeysRouter,
  members: membersRouter,
  matrices: matricesRouter,
  users: usersRouter,
  requests: adminRequestsRouter,
  audit: auditRouter,
  settings: settingsRouter,
});
