import { router } from "../../trpc";
import { cancel } from "./cancel";
import { create } from "./create";
import { decide } from "./decide";
import { dryRun } from "./dry-run";
import { get } from "./get";
import { inbox } from "./inbox";
import { list } from "./list";
import { verify } from "./verify";

export const requestsRouter = router({ create, dryRun, get, list, decide, cancel, inbox, verify });
