// Pure decisions of the store's write path (no I/O), shared by a single PUT and a bulk batch:
// the preconditions, and how a batch is cut into groups whose files can be written in parallel.
import { StoreError } from '../store-error.ts';

/** If-Match / If-None-Match against the current hash (undefined = no file); throws precondition_failed. */
export function checkPreconditions(current: string | undefined, ifMatch: string | undefined, ifNoneMatch: boolean | undefined): void {
  if (ifNoneMatch && current !== undefined) {
    throw new StoreError('precondition_failed', 'the file already exists on the hub (If-None-Match: *); nothing was written');
  }
  if (ifMatch !== undefined) {
    if (current === undefined) throw new StoreError('precondition_failed', 'the file no longer exists on the hub; nothing was written');
    if (ifMatch !== '*' && ifMatch !== current) {
      throw new StoreError('precondition_failed', 'the file changed on the hub (If-Match does not match); nothing was written');
    }
  }
}

/**
 * Cuts a batch of workspace paths (in request order) into consecutive groups in which no two
 * paths can affect each other: not the same path, and neither one a folder of the other (a file
 * `a` and a file `a/b` decide each other's fate: parent-is-a-file / folder-in-the-way). Within a
 * group, what is on disk before the group is exactly what each item would see if the items were
 * applied one by one, so the group can be located and written in parallel; only the quota count
 * needs request order, and the caller keeps it. Keys are compared case-folded, so even on a
 * case-insensitive filesystem two spellings of one name never land in the same group.
 * Returns index lists into `paths`, in order.
 */
export function independentGroups(paths: readonly string[]): number[][] {
  const groups: number[][] = [];
  let current: number[] = [];
  let files = new Set<string>();
  let folders = new Set<string>();
  for (const [i, path] of paths.entries()) {
    const key = path.toLowerCase();
    const parents = ancestors(key);
    const clash = files.has(key) || folders.has(key) || parents.some((p) => files.has(p));
    if (clash) {
      groups.push(current);
      current = [];
      files = new Set();
      folders = new Set();
    }
    current.push(i);
    files.add(key);
    for (const p of parents) folders.add(p);
  }
  if (current.length) groups.push(current);
  return groups;
}

/** `a/b/c` -> [`a`, `a/b`] */
function ancestors(path: string): string[] {
  const out: string[] = [];
  for (let i = path.indexOf('/'); i !== -1; i = path.indexOf('/', i + 1)) out.push(path.slice(0, i));
  return out;
}
