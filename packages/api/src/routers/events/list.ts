import { apiKeyProcedure } from "../../procedures";
import { EVENT_RETENTION_DAYS, listEvents } from "../../services/events/list-events";
import { router } from "../../trpc";
import { eventPage, listEventsInput } from "../webhooks/schemas";

export const eventsRouter = router({
  list: apiKeyProcedure("events:read")
    .meta({
      openapi: {
        method: "GET",
        path: "/events",
        summary: "List events",
        description: `Every change of the tenant's requests, members and keys, newest first: the events webhooks deliver, for a system that was down to catch up. Filter by type and time; cursor pagination as on /requests (pass nextCursor as startingAfter). Events are kept ${EVENT_RETENTION_DAYS} days.`,
        tags: ["Events"],
        protect: true,
      },
    })
    .input(listEventsInput)
    .output(eventPage)
    .query(({ ctx, input }) => listEvents(ctx.deps.db, ctx.tenantId, input)),
});
