// docs/SYNC-SPEC.md "Decision table": one case per row, named after the row.
import { describe, expect, it } from 'vitest';
import { decide, massDeleteGuard, reconcile, type Decision } from '../../shared/reconcile.ts';

const B = 'sha256:' + 'b'.repeat(64);
const L = 'sha256:' + 'l'.replace('l', 'c').repeat(64);
const H = 'sha256:' + 'd'.repeat(64);
const X = 'sha256:' + 'e'.repeat(64);
const O = undefined;

type Row = [name: string, base: string | undefined, local: string | undefined, remote: string | undefined, expected: Decision];
const rows: Row[] = [
  ['L = B, H = B: nothing', B, B, B, { kind: 'nothing' }],
  ['L changed, H = B: upload L (If-Match B)', B, L, B, { kind: 'upload' }],
  ['L = B, H changed: download H', B, B, H, { kind: 'download' }],
  ['L changed, H changed, H = L: record base only (false conflict)', B, X, X, { kind: 'record-base', hash: X }],
  ['L changed, H changed, H != L: conflict', B, L, H, { kind: 'conflict' }],
  ['L deleted, H = B: delete on hub', B, O, B, { kind: 'delete-remote' }],
  ['L = B, H deleted: delete locally', B, B, O, { kind: 'delete-local' }],
  ['L deleted, H changed: download H (a change beats a delete)', B, O, H, { kind: 'download' }],
  ['L changed, H deleted: upload L (a change beats a delete)', B, L, O, { kind: 'upload' }],
  ['L deleted, H deleted: drop base', B, O, O, { kind: 'drop-base' }],
  ['L new (B=0), H 0: upload', O, L, O, { kind: 'upload' }],
  ['L 0, H new (B=0): download', O, O, H, { kind: 'download' }],
  ['L new, H new, same: record base', O, X, X, { kind: 'record-base', hash: X }],
  ['L new, H new, different: conflict', O, L, H, { kind: 'conflict' }],
];

describe('docs/SYNC-SPEC.md decision table', () => {
  it.each(rows)('%s', (_name, base, local, remote, expected) => {
    expect(decide(base, local, remote)).toEqual(expected);
  });

  it('absent everywhere is nothing', () => {
    expect(decide(O, O, O)).toEqual({ kind: 'nothing' });
  });
});

describe('reconcile over maps', () => {
  it('decides every path of the three maps, sorted, and leaves out "nothing"', () => {
    const base = new Map([
      ['same.txt', B],
      ['edited-here.txt', B],
      ['deleted-there.txt', B],
      ['both-gone.txt', B],
    ]);
    const local = new Map([
      ['same.txt', B],
      ['edited-here.txt', L],
      ['deleted-there.txt', B],
      ['new-here.txt', L],
    ]);
    const remote = new Map([
      ['same.txt', B],
      ['edited-here.txt', B],
      ['new-there.txt', H],
    ]);
    const plan = reconcile(base, local, remote);
    expect(plan.map((p) => [p.path, p.decision.kind])).toEqual([
      ['both-gone.txt', 'drop-base'],
      ['deleted-there.txt', 'delete-local'],
      ['edited-here.txt', 'upload'],
      ['new-here.txt', 'upload'],
      ['new-there.txt', 'download'],
    ]);
    const edited = plan.find((p) => p.path === 'edited-here.txt')!;
    expect(edited).toMatchObject({ base: B, local: L, remote: B });
  });

  it('empty base merges: nothing is deleted whatever is missing (invariant 9)', () => {
    const local = new Map([['a', L]]);
    const remote = new Map([['b', H]]);
    const kinds = reconcile(new Map(), local, remote).map((p) => p.decision.kind);
    expect(kinds).toEqual(['upload', 'download']);
    expect(kinds).not.toContain('delete-local');
    expect(kinds).not.toContain('delete-remote');
  });
});

describe('mass-delete guard (invariant 10)', () => {
  it('stops when the local root is gone and the base is not empty', () => {
    const v = massDeleteGuard({ baseCount: 3, localDeletes: 0, remoteDeletes: 3, localRootGone: true });
    expect(v.stop).toBe(true);
  });
  it('lets a fresh, empty folder through', () => {
    expect(massDeleteGuard({ baseCount: 0, localDeletes: 0, remoteDeletes: 0, localRootGone: true }).stop).toBe(false);
  });
  it('stops over the share on the hub side', () => {
    const v = massDeleteGuard({ baseCount: 20, localDeletes: 0, remoteDeletes: 11, localRootGone: false });
    expect(v).toMatchObject({ stop: true });
    if (v.stop) expect(v.reason).toMatch(/11 of 20 files on the hub/);
  });
  it('stops over the share on the local side', () => {
    const v = massDeleteGuard({ baseCount: 20, localDeletes: 15, remoteDeletes: 0, localRootGone: false });
    expect(v.stop).toBe(true);
  });
  it('allows deletes at or under the share', () => {
    expect(massDeleteGuard({ baseCount: 20, localDeletes: 10, remoteDeletes: 10, localRootGone: false }).stop).toBe(false);
  });
  it('below the minimum count the share rule does not apply (small folders churn)', () => {
    expect(massDeleteGuard({ baseCount: 4, localDeletes: 0, remoteDeletes: 4, localRootGone: false }).stop).toBe(false);
  });
  it('honours a custom threshold and minimum', () => {
    expect(massDeleteGuard({ baseCount: 10, localDeletes: 0, remoteDeletes: 3, localRootGone: false, threshold: 0.2, minDeletes: 1 }).stop).toBe(true);
  });
});
