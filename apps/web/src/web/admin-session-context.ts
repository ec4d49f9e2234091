import type { IncomingMessage } from "node:http";
import { type ApiContext, type ApiDeps, createCaller, findPasswordReset, observationOf, usePasswordReset } from "@approvalmatrix/api";
import type { AdminAuth, ValidatedSession } from "@approvalmatrix/auth";
import { newId } from "@approvalmatrix/core";
import type { WebContext } from "../../app/load-context";
import { clientAddress } from "./client-address";

/**
 * The load context of one admin-app request: the signed-in user (from the session cookie) and a
 * tRPC caller acting as that user. `validated` is returned too: its refreshed cookie must reach
 * the browser.
 */
export async function adminSessionContext(
  req: IncomingMessage,
  deps: ApiDeps,
  auth: AdminAuth,
  { origin, cspNonce, trustProxy }: { origin: string; cspNonce: string; trustProxy: number },
): Promise<{ context: WebContext; validated: ValidatedSession | null }> {
  const observed = observationOf(req);
  const requestId = observed?.requestId ?? newId("httpRequest");
  const validated = await auth.sessions.validate(req.headers.cookie ?? null);
  if (observed && validated) {
    observed.tenantId = validated.user.tenantId;
    observed.userId = validated.user.id;
  }
  const apiContext = (onProgress?: ApiContext["onProgress"]): ApiContext | null =>
    validated
      ? {
          deps,
          requestId,
          authorization: null,
          credentialInQuery: false,
          response: { headers: {} },
          actor: {
            kind: "user",
            tenantId: validated.user.tenantId,
            userId: validated.user.id,
            role: validated.user.role,
            memberId: validated.user.memberId,
          },
          ...(onProgress ? { onProgress } : {}),
        }
      : null;
  const base = apiContext();
  const context: WebContext = {
    requestId,
    clientIp: clientAddress(req, trustProxy),
    cspNonce,
    session: validated ? { sessionId: validated.sessionId, user: validated.user } : null,
    api: base ? createCaller(base) : null,
    publicApi: createCaller({ deps, requestId, authorization: null, credentialInQuery: false, response: { headers: {} }, actor: null }),
    apiWithProgress: (onProgress) => {
      const ctx = apiContext(onProgress);
      return ctx ? createCaller(ctx) : null;
    },
    auth,
    passwordResets: {
      find: async (token) => {
        const found = await findPasswordReset(deps.db, token);
        return found ? { email: found.email, name: found.name } : null;
      },
      use: async (token, password) => {
        const used = await usePasswordReset(deps.db, token, password);
        return used.ok ? { ok: true } : used;
      },
    },
    origin,
  };
  return { context, validated };
}
