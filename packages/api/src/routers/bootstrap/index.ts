import { API_KEY_SCOPES, BOOTSTRAP_KEY_MAX_DAYS, BOOTSTRAP_STATUSES, parseBearer } from "@approvalmatrix/core";
import { z } from "zod";
import type { Actor } from "../../context";
import { publicProcedure, tenantProcedure } from "../../procedures";
import { answerBootstrap, pendingBootstrapsFor, pollBootstrap, startBootstrap } from "../../services/bootstrap/bootstrap";
import { apiError } from "../../errors";
import { router } from "../../trpc";

const tags = ["Agent bootstrap"];
const scopes = z.array(z.enum(API_KEY_SCOPES)).min(1);

const startInput = z.strictObject({
  email: z.email().max(320).describe("The account holder who will be asked to consent."),
  agentName: z.string().trim().min(1).max(100).describe("Shown to the account holder and used to name the key."),
  scopes: scopes.describe("The scopes the agent asks for; the person may grant fewer."),
  note: z.string().trim().max(500).optional().describe("Why the agent asks, shown to the person."),
});

const startOutput = z.object({
  bootstrapId: z.string(),
  userCode: z.string().describe("Show it to the person: they check it matches (RFC 8628 user_code)."),
  verificationUrl: z.string().describe("Where the person consents, in the admin app."),
  expiresAt: z.iso.datetime(),
  interval: z.number().int().describe("Seconds to wait between polls."),
  pollSecret: z.string().describe("Send as Authorization: Bearer on the status endpoint; only its holder collects the key."),
});

const statusOutput = z.object({
  bootstrapId: z.string(),
  status: z.enum(BOOTSTRAP_STATUSES),
  expiresAt: z.iso.datetime(),
  interval: z.number().int(),
  apiKey: z
    .object({
      id: z.string(),
      key: z.string(),
      name: z.string(),
      scopes: z.array(z.enum(API_KEY_SCOPES)),
      expiresAt: z.iso.datetime().nullable(),
    })
    .nullable()
    .describe("The key, in the first answer after approval only: store it then."),
  collected: z.boolean(),
});

const consentView = z.object({
  id: z.string(),
  agentName: z.string(),
  scopes: z.array(z.enum(API_KEY_SCOPES)),
  grantableScopes: z.array(z.enum(API_KEY_SCOPES)),
  note: z.string().nullable(),
  userCode: z.string(),
  clientIp: z.string().nullable(),
  createdAt: z.iso.datetime(),
  expiresAt: z.iso.datetime(),
});

const answerOutput = z.object({
  bootstrapId: z.string(),
  status: z.enum(["approved", "denied"]),
  grantedScopes: z.array(z.enum(API_KEY_SCOPES)),
  keyExpiresAt: z.iso.datetime().nullable(),
});

function signedInUser(actor: Actor): Extract<Actor, { kind: "user" }> {
  if (actor.kind !== "user") throw apiError("forbidden", "Only the account holder, signed in, can answer an agent's request.");
  return actor;
}

export const bootstrapRouter = router({
  start: publicProcedure
    .meta({
      successStatus: 201,
      errorCodes: ["rate_limited"],
      openapi: {
        method: "POST",
        path: "/bootstrap",
        summary: "Start an agent bootstrap (no key needed)",
        description:
          "An agent asks for a key for an existing account. The answer never says whether the account exists. Show the userCode and verificationUrl to the person; poll the status endpoint with the pollSecret every `interval` seconds. 5 starts an hour per email and a cap per client address.",
        tags,
        protect: false,
      },
    })
    .input(startInput)
    .output(startOutput)
    .mutation(({ ctx, input }) => startBootstrap(ctx, input)),

  status: publicProcedure
    .meta({
      errorCodes: ["not_found", "rate_limited"],
      openapi: {
        method: "GET",
        path: "/bootstrap/{bootstrapId}/status",
        summary: "Poll an agent bootstrap",
        description:
          "Send the pollSecret as Authorization: Bearer bps_…. Answers pending, approved (with the key, exactly once), denied or expired. Polling faster than `interval` is 429 with Retry-After.",
        tags,
        protect: false,
      },
    })
    .input(z.strictObject({ bootstrapId: z.string().min(1).max(100) }))
    .output(statusOutput)
    .query(({ ctx, input }) => pollBootstrap(ctx, input.bootstrapId, parseBearer(ctx.authorization))),

  pending: tenantProcedure("approver")
    .output(consentView.array())
    .query(({ ctx }) => pendingBootstrapsFor(ctx.deps.db, signedInUser(ctx.actor).userId)),

  approve: tenantProcedure("approver")
    .input(
      z.strictObject({
        bootstrapId: z.string().min(1).max(100),
        scopes: scopes.optional(),
        keyExpiresInDays: z.number().int().min(1).max(BOOTSTRAP_KEY_MAX_DAYS).optional(),
        userCode: z.string().max(20).optional(),
      }),
    )
    .output(answerOutput)
    .mutation(({ ctx, input }) => answerBootstrap(ctx.deps.db, signedInUser(ctx.actor), "approved", input)),

  deny: tenantProcedure("approver")
    .input(z.strictObject({ bootstrapId: z.string().min(1).max(100) }))
    .output(answerOutput)
    .mutation(({ ctx, input }) => answerBootstrap(ctx.deps.db, signedInUser(ctx.actor), "denied", input)),
});
