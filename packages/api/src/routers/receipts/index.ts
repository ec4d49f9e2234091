import { router } from "../../trpc";
import { keys } from "./keys";
import { verify } from "./verify";

export const receiptsRouter = router({ keys, verify });
