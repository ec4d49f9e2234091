import { apiKeyProcedure } from "../../procedures";
import { listRequests } from "../../services/list-requests";
import { listRequestsInput, requestPage } from "../../contracts/requests";

export const list = apiKeyProcedure("requests:read")
  .meta({
    openapi: {
      method: "GET",
      path: "/requests",
      summary: "List requests",
      description:
        "Newest first, with optional filters. Cursor pagination: pass a page's nextCursor as startingAfter to get the next one; hasMore says whether one follows. Pages stay fast however deep you go.",
      tags: ["Requests"],
      protect: true,
    },
  })
  .input(listRequestsInput)
  .output(requestPage)
  .query(({ ctx, input }) => listRequests(ctx.deps.db, ctx.tenantId, input));
