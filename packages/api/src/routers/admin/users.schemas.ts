import { TENANT_ROLES } from "@approvalmatrix/core";
import { z } from "zod";

export const userView = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string(),
  role: z.enum(TENANT_ROLES),
  memberRef: z.string().nullable(),
  createdAt: z.iso.datetime(),
});

export const userInviteInput = z.strictObject({
  email: z.email().max(320),
  name: z.string().trim().min(1).max(200),
  role: z.enum(TENANT_ROLES),
  memberRef: z.string().trim().min(1).max(200).nullish(),
  password: z.string().min(1).max(200).optional(),
});

export const userInvited = userView.extend({ initialPassword: z.string().nullable() });

export const userListItem = userView.extend({
  suspended: z.boolean(),
  lastSignInAt: z.iso.datetime().nullable(),
  activeSessions: z.number().int(),
});

export const userIdInput = z.object({ id: z.string().min(1) });
export const userRoleInput = z.object({ id: z.string().min(1), role: z.enum(TENANT_ROLES) });
export const userSuspendInput = z.object({ id: z.string().min(1), suspended: z.boolean() });
export const userSessionsEndInput = z.object({ id: z.string().min(1), sessionId: z.string().min(1).optional() });
export const userSessionView = z.object({
  id: z.string(),
  createdAt: z.iso.datetime(),
  expiresAt: z.iso.datetime(),
  userAgent: z.string().nullable(),
});
export const passwordResetCreated = z.object({
  token: z.string(),
  path: z.string().describe("Where the user sets a new password: single-use, valid 24 hours."),
  expiresAt: z.iso.datetime(),
});
