import type { StageDeadline, MatrixCondition, StageRule } from "@approvalmatrix/core";

/** How an admin describes an approver set: named members by externalRef, the manager, or a department. */
export type ApproverSpecDraft =
  { type: "members"; memberRefs: string[] } | { type: "manager" } | { type: "department"; department: string };

/** A matrix as the editor sends it (validated by routers/admin/matrices.schemas.ts). */
export interface MatrixDraft {
  name: string;
  requestType: string;
  minAmount?: number | null | undefined;
  maxAmount?: number | null | undefined;
  currency?: string | null | undefined;
  conditions: MatrixCondition[];
  priority: number;
  active: boolean;
  stages: {
    name: string;
    approvers: ApproverSpecDraft;
    rule: StageRule;
    quorum?: number | null | undefined;
    deadline?: StageDeadline | null | undefined;
  }[];
}

/** A sample request the preview routes against a draft. */
export interface PreviewSample {
  submitterRef: string;
  amount?: number | null | undefined;
  currency?: string | null | undefined;
  metadata?: Record<string, unknown> | undefined;
}

export type MatrixPreview =
  | {
      routed: true;
      matrixId: string;
      matrixName: string;
      isThisMatrix: boolean;
      stages: { position: number; name: string; rule: string; quorum: number | null; approvers: { ref: string; name: string }[] }[];
    }
  | { routed: false; code: string; message: string };
