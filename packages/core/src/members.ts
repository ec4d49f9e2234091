/** Member directory rules. Pure; the adapters load the manager chains they need. */

/** The largest members CSV accepted: the upload route enforces it, the page checks before sending, the API validates it. */
export const MEMBER_IMPORT_MAX_BYTES = 50_000_000;
/** The most rows one import may carry. */
export const MEMBER_IMPORT_MAX_ROWS = 200_000;
/** The columns of the members CSV, in export order; import needs externalRef and name, in any order. */
export const MEMBER_CSV_COLUMNS = ["externalRef", "name", "email", "department", "managerRef", "active"] as const;
export type MemberCsvColumn = (typeof MEMBER_CSV_COLUMNS)[number];

/** What the Members list sorts by (ties broken by externalRef); "manager" is the manager's name. */
export const MEMBER_SORTS = ["externalRef", "name", "department", "manager", "updated"] as const;
export type MemberSort = (typeof MEMBER_SORTS)[number];
export const SORT_DIRECTIONS = ["asc", "desc"] as const;
export type SortDirection = (typeof SORT_DIRECTIONS)[number];

/** Headers other systems use for each column (compared without case, spaces, dashes or underscores). */
const MEMBER_CSV_ALIASES: Record<MemberCsvColumn, string[]> = {
  externalRef: ["externalref", "employeeid", "employeenumber", "empid", "personnelnumber", "staffid", "id", "ref"],
  name: ["name", "fullname", "displayname", "employeename"],
  email: ["email", "emailaddress", "mail", "workemail"],
  department: ["department", "dept", "division", "team"],
  managerRef: ["managerref", "manager", "managerid", "manageremployeeid", "supervisor", "supervisorid"],
  active: ["active", "enabled", "status", "isactive"],
};

/**
 * A first guess of which header of a file holds each column: ours as they are, then common
 * names ("Employee ID", "Full name", "E-mail"). Columns without a match are left out.
 */
export function guessColumnMapping(headers: readonly string[]): Partial<Record<MemberCsvColumn, string>> {
  const squash = (h: string) => h.toLowerCase().replace(/[\s_\-.]/g, "");
  const mapping: Partial<Record<MemberCsvColumn, string>> = {};
  const taken = new Set<string>();
  for (const column of MEMBER_CSV_COLUMNS) {
    const header = MEMBER_CSV_ALIASES[column]
      .map((alias) => headers.find((h) => !taken.has(h) && squash(h) === alias))
      .find((h) => h !== undefined);
    if (header !== undefined) {
      mapping[column] = header;
      taken.add(header);
    }
  }
  return mapping;
}

/**
 * Every management loop (A → B → A, or longer, or A → A) reachable from `starts` by following
 * `managerOf`, each once, as the members in the order the chain visits them. `managerOf` answers
 * the manager after the proposed change; undefined or null ends a chain. Linear in the members
 * walked: each is visited once however many starts lead to it.
 */
export function findManagerLoops(starts: Iterable<string>, managerOf: (id: string) => string | null | undefined): string[][] {
  const done = new Set<string>();
  const loops: string[][] = [];
  for (const start of starts) {
    const path: string[] = [];
    const onPath = new Map<string, number>();
    let id: string | null | undefined = start;
    while (id && !done.has(id)) {
      const at = onPath.get(id);
      if (at !== undefined) {
        loops.push(path.slice(at));
        break;
      }
      onPath.set(id, path.length);
      path.push(id);
      id = managerOf(id);
    }
    for (const visited of path) done.add(visited);
  }
  return loops;
}

/** "A → B → A": how a loop reads to a person, named by `label`. */
export function describeManagerLoop(loop: readonly string[], label: (id: string) => string = (id) => id): string {
  return [...loop, ...loop.slice(0, 1)].map(label).join(" → ");
}
