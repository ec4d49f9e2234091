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
