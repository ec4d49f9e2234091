/** The REST reference's own examples, so the document shows what the product docs promise. */
export const submitExample = {
  submitterRef: "EMP-1042",
  requestType: "purchase_order",
  title: "Office Supplies Q3",
  amount: 4500,
  currency: "USD",
  metadata: { department: "Engineering", poNumber: "PO-9871" },
};

export const createdExample = {
  requestId: "req_abc123",
  status: "pending",
  matrixId: "mat_xyz789",
  matrixName: "Engineering PO Matrix",
  currentStage: 1,
  totalStages: 2,
  expiresAt: null,
  createdAt: "2025-01-15T10:30:00Z",
};

export const dryRunExample = {
  requestId: null,
  status: "pending",
  matrixId: "mat_xyz789",
  matrixName: "Engineering PO Matrix",
  dryRun: true,
  createdAt: null,
  totalStages: 2,
  stages: [
    { stage: 1, name: "Manager approval", rule: "any", quorum: null, approvers: [{ ref: "EMP-2001", name: "Jane Smith" }] },
    { stage: 2, name: "Finance approval", rule: "any", quorum: null, approvers: [{ ref: "EMP-3001", name: "Bob Lee" }] },
  ],
};

export const statusExample = {
  requestId: "req_abc123",
  status: "approved",
  title: "Office Supplies Q3",
  submitterRef: "EMP-1042",
  requestType: "purchase_order",
  amount: 4500,
  currency: "USD",
  metadata: { department: "Engineering", poNumber: "PO-9871" },
  matrixId: "mat_xyz789",
  matrixName: "Engineering PO Matrix",
  currentStage: null,
  totalStages: 2,
  decisions: [
    {
      stage: 1,
      decidedBy: "Jane Smith",
      decidedByRef: "EMP-2001",
      decision: "approved",
      comment: null,
      actor: { type: "user", id: "usr_jane", name: "Jane Smith" },
      decidedAt: "2025-01-15T11:00:00Z",
      onBehalfOf: null,
      delegate: null,
    },
    {
      stage: 2,
      decidedBy: "Bob Lee",
      decidedByRef: "EMP-3001",
      decision: "approved",
      comment: "Within budget",
      actor: { type: "api_key", id: "key_erp", name: "ERP connector" },
      decidedAt: "2025-01-15T14:22:00Z",
      onBehalfOf: null,
      delegate: null,
    },
  ],
  stages: [
    {
      stage: 1,
      name: "Manager approval",
      rule: "any",
      quorum: null,
      status: "approved",
      approvers: [{ ref: "EMP-2001", name: "Jane Smith" }],
      pendingApprovers: [],
      dueAt: null,
      delegations: [],
    },
    {
      stage: 2,
      name: "Finance approval",
      rule: "any",
      quorum: null,
      status: "approved",
      approvers: [{ ref: "EMP-3001", name: "Bob Lee" }],
      pendingApprovers: [],
      dueAt: null,
      delegations: [],
    },
  ],
  pendingApprovers: [],
  cancelReason: null,
  expiresAt: null,
  createdAt: "2025-01-15T10:30:00Z",
  updatedAt: "2025-01-15T14:22:00Z",
};

export const cancelledExample = {
  ...statusExample,
  status: "cancelled",
  currentStage: null,
  decisions: [statusExample.decisions[0]],
  stages: [statusExample.stages[0], { ...statusExample.stages[1], status: "cancelled" }],
  cancelReason: "Ordered through another supplier",
  updatedAt: "2025-01-15T12:05:00Z",
};

const {
  metadata: _metadata,
  decisions: _decisions,
  stages: _stages,
  pendingApprovers: _pending,
  cancelReason: _reason,
  ...summaryExample
} = statusExample;

export const listExample = { data: [summaryExample], hasMore: true, nextCursor: "req_abc123" };

/** Examples by operation: [request body, success body]. */
export const EXAMPLES: Record<string, { request?: unknown; response: unknown }> = {
  "POST /requests": { request: submitExample, response: createdExample },
  "POST /requests/test": { request: submitExample, response: dryRunExample },
  "GET /requests/{requestId}": { response: statusExample },
  "GET /requests": { response: listExample },
  "POST /requests/{requestId}/decisions": {
    request: { approverRef: "EMP-3001", decision: "approved", comment: "Within budget" },
    response: statusExample,
  },
  "POST /requests/{requestId}/cancel": { request: { reason: "Ordered through another supplier" }, response: cancelledExample },
};
