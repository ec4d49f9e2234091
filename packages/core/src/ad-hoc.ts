/**
 * Ad-hoc requests name their approver (`approverRef` or `approverEmail`) instead of being routed
 * by a matrix: one stage, that one person. A tenant setting says who may submit them.
 */
export const AD_HOC_POLICIES = ["off", "selected_keys", "all_keys"] as const;
export type AdHocPolicy = (typeof AD_HOC_POLICIES)[number];

export const AD_HOC_POLICY_LABELS: Record<AdHocPolicy, string> = {
  off: "Off: every request goes through a matrix",
  selected_keys: "Only keys marked “may address an approver”",
  all_keys: "Any key with requests:write",
};

/** The name of the one stage of an ad-hoc request, and of its (absent) matrix in views. */
export const AD_HOC_STAGE_NAME = "Approval";
export const AD_HOC_MATRIX_NAME = "Ad-hoc (addressed to one approver)";

/** Whether a key may submit an ad-hoc request under `policy`. Internal service tokens always may. */
export function mayAddressApprover(
  policy: AdHocPolicy,
  caller: { kind: "apiKey"; allowAdHoc: boolean } | { kind: "serviceToken" },
): boolean {
  if (caller.kind === "serviceToken") return true;
  return policy === "all_keys" || (policy === "selected_keys" && caller.allowAdHoc);
}

/** Longest ttlSeconds a request may carry (30 days), and the shortest (one minute). */
export const MAX_TTL_SECONDS = 30 * 24 * 3600;
export const MIN_TTL_SECONDS = 60;
