import { router } from "../../trpc";
import { apiKeysRouter } from "./api-keys";
import { matricesRouter } from "./matrices";
import { membersRouter } from "./members";

export const adminRouter = router({ apiKeys: apiKeysRouter, members: membersRouter, matrices: matricesRouter });
