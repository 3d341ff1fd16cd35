// Model-based properties of the docs/SYNC-SPEC.md decision table (shared/reconcile.ts), over random
// (base, local, remote) triples drawn from a small hash alphabet so equal values are common.
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { decide, reconcile, type Decision, type Side } from '../../shared/reconcile.ts';

const SOAK = process.env.YOULAB_SOAK === '1';
const RUNS = SOAK ? 200_000 : 2_000;
let cases = 0;

const side: fc.Arbitrary<Side> = fc.option(fc.constantFrom('sha256:a', 'sha256:b', 'sha256:c'), { nil: undefined });
const triple = fc.tuple(side, side, side);

/** What each replica holds after applying a decision (conflict: remote keeps the path, local's bytes go to a copy). */
function apply(d: Decision, local: Side, remote: Side): { local: Side; remote: Side; base: Side; copy?: Side } {
  switch (d.kind) {
    case 'nothing':
      return { local, remote, base: local === remote ? local : undefined };
    case 'upload':
      return { local, remote: local, base: local };
    case 'download':
      return { local: remote, remote, base: remote };
    case 'record-base':
      return { local, remote, base: d.hash };
    case 'conflict':
      return { local: remote, remote, base: remote, copy: local };
    case 'delete-remote':
    case 'delete-local':
    case 'drop-base':
      return { local: undefined, remote: undefined, base: undefined };
  }
}

function prop(name: string, p: (b: Side, l: Side, r: Side) => void): void {
  it(name, () => {
    fc.assert(
      fc.property(triple, ([b, l, r]) => {
        cases++;
        p(b, l, r);
      }),
      { numRuns: RUNS },
    );
  });
}

describe('decide(): docs/SYNC-SPEC.md decision table invariants', () => {
  afterAll(() => console.log(`reliability: suite=reconcile cases=${cases} faults=0 hostile=0 lost=0`));

  prop('a change never loses to a delete: content that differs from the base survives on some replica', (b, l, r) => {
    const after = apply(decide(b, l, r), l, r);
    const kept = new Set([after.local, after.remote, after.copy]);
    // Every content that is new since the base (an edit or a create) must still exist after the decision.
    for (const v of [l, r]) if (v !== undefined && v !== b) expect(kept.has(v)).toBe(true);
  });

  prop('no decision deletes without a base', (b, l, r) => {
    const d = decide(b, l, r);
    if (b === undefined) expect(['delete-local', 'delete-remote']).not.toContain(d.kind);
  });

  prop('a delete only removes content equal to the base (what both sides agreed on)', (b, l, r) => {
    const d = decide(b, l, r);
    if (d.kind === 'delete-remote') expect(r).toBe(b);
    if (d.kind === 'delete-local') expect(l).toBe(b);
  });

  prop('symmetry: swapping local and remote swaps upload/download and delete sides; conflicts stay conflicts', (b, l, r) => {
    const d = decide(b, l, r).kind;
    const s = decide(b, r, l).kind;
    const mirror: Record<Decision['kind'], Decision['kind']> = {
      nothing: 'nothing',
      upload: 'download',
      download: 'upload',
      'record-base': 'record-base',
      conflict: 'conflict',
      'delete-remote': 'delete-local',
      'delete-local': 'delete-remote',
      'drop-base': 'drop-base',
    };
    expect(s).toBe(mirror[d]);
  });

  prop('idempotence: after applying a decision, deciding again does nothing', (b, l, r) => {
    const after = apply(decide(b, l, r), l, r);
    // A decision of "nothing" with diverging sides cannot happen (checked by the next property).
    expect(decide(after.base, after.local, after.remote).kind).toBe('nothing');
  });

  prop('convergence: one decision brings both replicas to the same content', (b, l, r) => {
    const after = apply(decide(b, l, r), l, r);
    expect(after.local).toBe(after.remote);
  });

  prop('a conflict copy is made only when both sides hold different content', (b, l, r) => {
    if (decide(b, l, r).kind === 'conflict') {
      expect(l).toBeDefined();
      expect(r).toBeDefined();
      expect(l).not.toBe(r);
    }
  });

  it('reconcile() over maps equals decide() per path, sorted, without "nothing" entries', () => {
    const path = fc.constantFrom('a.md', 'b/c.txt', 'Z', 'é.md');
    const map = fc.dictionary(path, fc.constantFrom('sha256:a', 'sha256:b'), { maxKeys: 4 });
    fc.assert(
      fc.property(map, map, map, (b, l, r) => {
        cases++;
        const [B, L, R] = [b, l, r].map((o) => new Map(Object.entries(o)));
        const plan = reconcile(B!, L!, R!);
        const paths = plan.map((p) => p.path);
        expect(paths).toEqual([...paths].sort());
        for (const p of plan) {
          expect(p.decision).toEqual(decide(B!.get(p.path), L!.get(p.path), R!.get(p.path)));
          expect(p.decision.kind).not.toBe('nothing');
        }
        const all = new Set([...B!.keys(), ...L!.keys(), ...R!.keys()]);
        for (const k of all) if (!paths.includes(k)) expect(decide(B!.get(k), L!.get(k), R!.get(k)).kind).toBe('nothing');
      }),
      { numRuns: RUNS / 4 },
    );
  });
});
