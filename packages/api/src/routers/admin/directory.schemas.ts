import { DEACTIVATION_POLICIES, EXTERNAL_REF_SOURCES } from "@approvalmatrix/core";
import { z } from "zod";

export const scimTokenView = z.object({
  id: z.string(),
  provider: z.string(),
  start: z.string(),
  createdBy: z.string(),
  createdAt: z.iso.datetime(),
  lastUsedAt: z.iso.datetime().nullable(),
  revokedAt: z.iso.datetime().nullable(),
});

export const scimTokenCreateInput = z.strictObject({
  provider: z.string().trim().min(1).max(100).describe('The identity provider, as members will show it: "Okta", "Microsoft Entra ID".'),
});

export const scimTokenCreated = scimTokenView.extend({ token: z.string().describe("The bearer token. Shown once.") });
export const scimTokenIdInput = z.object({ id: z.string().min(1) });

export const directorySettingsView = z.object({
  externalRefSource: z.enum(EXTERNAL_REF_SOURCES),
  deactivationPolicy: z
    .enum(DEACTIVATION_POLICIES)
    .describe(
      "Where a deactivated member's open approvals go: their manager; their delegate in force (the end of the delegation chain; the manager when there is none); or nowhere.",
    ),
});
export const directorySettingsInput = directorySettingsView.partial().strict();
