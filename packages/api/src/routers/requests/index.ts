import { router } from "../../trpc";
import { create } from "./create";
import { dryRun } from "./dry-run";
import { get } from "./get";

export const requestsRouter = router({ create, dryRun, get });
