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
