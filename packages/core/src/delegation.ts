/**
 * Delegation (out of office): who actually receives an approver's stage. Pure; table-tested in
 * delegation.test.ts. `edges` maps a member to the delegate in force for them now.
 */
import { DomainError } from "./errors";

/** Follows a chain of delegations to its end (Jane → Bob → Chen: Chen). A loop stops where it would repeat. */
export function resolveDelegate(memberId: string, edges: ReadonlyMap<string, string>): { delegate: string; chain: string[] } {
  const chain = [memberId];
  let current = memberId;
  for (;;) {
    const next = edges.get(current);
    if (next === undefined || chain.includes(next)) return { delegate: current, chain };
    chain.push(next);
    current = next;
  }
}

/** Refuses a delegation that would close a loop (Jane → Bob while Bob → … → Jane holds) or points at oneself. */
export function assertNoDelegationLoop(edges: ReadonlyMap<string, string>, memberId: string, delegateId: string): void {
  if (memberId === delegateId) throw new DomainError("delegation_loop", "A member cannot delegate to themselves.");
  const { chain } = resolveDelegate(delegateId, edges);
  if (chain.includes(memberId)) {
    throw new DomainError("delegation_loop", `This delegation would close a loop: ${[memberId, ...chain].join(" → ")}.`);
  }
}

export interface DelegatedStage {
  approverIds: string[];
  /** delegate → the approver they stand in for. */
  delegatedFrom: Record<string, string>;
}

/**
 * The approvers of a stage that opens, with each one's delegate in force sitting in their place.
 * Kept as they are: approvers who already decided, a delegate who is the submitter (nobody
 * approves their own request, also not through delegation), and a delegate who already holds a
 * seat on the stage (a quorum counts people, not seats).
 */
export function applyDelegations(
  stage: { approverIds: readonly string[]; delegatedFrom?: Readonly<Record<string, string>> },
  edges: ReadonlyMap<string, string>,
  opts: { submitterId: string; decided?: ReadonlySet<string> },
): DelegatedStage {
  const approverIds = [...stage.approverIds];
  const delegatedFrom: Record<string, string> = { ...stage.delegatedFrom };
  approverIds.forEach((approverId, index) => {
    if (opts.decided?.has(approverId)) return;
    const { delegate } = resolveDelegate(approverId, edges);
    if (delegate === approverId || delegate === opts.submitterId || approverIds.includes(delegate)) return;
    approverIds[index] = delegate;
    // A delegate standing in for a delegate stands in for the original approver.
    delegatedFrom[delegate] = delegatedFrom[approverId] ?? approverId;
    delete delegatedFrom[approverId];
  });
  return { approverIds, delegatedFrom };
}

/** What happens to a deactivated member's open approvals (a tenant's directory setting). */
export const DEACTIVATION_POLICIES = ["manager", "delegate", "none"] as const;
export type DeactivationPolicy = (typeof DEACTIVATION_POLICIES)[number];

/** Why a `delegate` handover went to the manager instead. */
export type HandoverFallback = "no_delegate" | "delegation_loop" | "delegate_inactive";

export interface Handover {
  /** Who takes the deactivated member's open approvals; null: they stay where they are. */
  to: string | null;
  via: "delegate" | "manager" | null;
  /** The delegation chain followed, from the member to `to` (for `via: "delegate"`). */
  chain: string[];
  /** Set when the policy is `delegate` but no usable delegate was found. */
  fallback?: HandoverFallback;
}

/**
 * Who receives a deactivated member's open approvals under the tenant's policy. `delegate`
 * follows the delegations in force (`edges`) from the member to the end of the chain (Jane → Bob →
 * Chen: Chen); a chain that comes back on itself is refused rather than cut short, and so is one
 * ending at an inactive member: both, like having no delegate, fall back to the manager. The
 * manager is used only while active.
 */
export function chooseHandover(input: {
  memberId: string;
  policy: DeactivationPolicy;
  managerId: string | null;
  edges: ReadonlyMap<string, string>;
  isActive: (memberId: string) => boolean;
}): Handover {
  if (input.policy === "none") return { to: null, via: null, chain: [] };
  let fallback: HandoverFallback | undefined;
  if (input.policy === "delegate") {
    const chain = [input.memberId];
    let loop = false;
    for (let next = input.edges.get(input.memberId); next !== undefined; next = input.edges.get(next)) {
      if (chain.includes(next)) {
        loop = true;
        break;
      }
      chain.push(next);
    }
    const end = chain.at(-1) ?? input.memberId;
    if (chain.length === 1) fallback = "no_delegate";
    else if (loop) fallback = "delegation_loop";
    else if (!input.isActive(end)) fallback = "delegate_inactive";
    else return { to: end, via: "delegate", chain };
  }
  const manager = input.managerId && input.managerId !== input.memberId && input.isActive(input.managerId) ? input.managerId : null;
  return { to: manager, via: manager ? "manager" : null, chain: [], ...(fallback ? { fallback } : {}) };
}
