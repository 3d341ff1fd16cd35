// The client's planning on top of the decision table: conflicts, clashes, refused files.
import { describe, expect, it } from 'vitest';
import { planRound, type PlanInput, type Step } from '../../app/sync/plan.ts';
import { isConflictCopy } from '../../shared/conflict-name.ts';

const h = (c: string) => 'sha256:' + c.repeat(64);
const now = new Date(Date.UTC(2026, 4, 6, 7, 8, 9));

function input(p: {
  base?: Record<string, string>;
  local?: Record<string, string | { rel: string; hash: string }>;
  remote?: Record<string, string>;
  dirs?: string[];
  extra?: Partial<PlanInput>;
}): PlanInput {
  return {
    base: new Map(Object.entries(p.base ?? {})),
    local: new Map(
      Object.entries(p.local ?? {}).map(([k, v]) => [k, typeof v === 'string' ? { rel: k, hash: v, size: 1 } : { ...v, size: 1 }]),
    ),
    localDirs: new Set(p.dirs ?? []),
    remote: new Map(Object.entries(p.remote ?? {}).map(([k, v]) => [k, { hash: v, size: 2, modified: '2026-01-01T00:00:00Z' }])),
    device: 'laptop',
    now,
    localRoot: 'ok',
    ...p.extra,
  };
}

const kinds = (steps: Step[]) => steps.map((s) => `${s.kind}:${s.key}`);

describe('conflicts', () => {
  it('true conflict: the hub keeps the path, the local version becomes a named conflict copy', () => {
    const plan = planRound(input({ base: { 'a/n.md': h('1') }, local: { 'a/n.md': h('2') }, remote: { 'a/n.md': h('3') } }));
    expect(plan.steps).toEqual([
      { kind: 'conflict', key: 'a/n.md', rel: 'a/n.md', copyKey: 'a/n (conflict laptop 2026-05-06 070809).md', local: h('2'), remote: h('3') },
    ]);
  });

  it('a second conflict at one path within the same second gets a free copy name, never the first copy\'s', () => {
    const first = 'a/n (conflict laptop 2026-05-06 070809).md';
    const plan = planRound(
      input({
        base: { 'a/n.md': h('1'), [first]: h('4') },
        local: { 'a/n.md': h('2'), [first]: h('4') },
        remote: { 'a/n.md': h('3'), [first]: h('4') },
      }),
    );
    expect(plan.steps).toEqual([
      { kind: 'conflict', key: 'a/n.md', rel: 'a/n.md', copyKey: 'a/n (conflict laptop 2026-05-06 070810).md', local: h('2'), remote: h('3') },
    ]);
  });

  it('a conflict copy never gets a conflict copy: the hub version replaces it (the local one goes to the trash)', () => {
    const copy = 'n (conflict desk 2026-01-01 000000).md';
    expect(isConflictCopy(copy)).toBe(true);
    const plan = planRound(input({ base: { [copy]: h('1') }, local: { [copy]: h('2') }, remote: { [copy]: h('3') } }));
    expect(plan.steps).toEqual([{ kind: 'replace-local', key: copy, rel: copy, hash: h('3'), expectLocal: h('2') }]);
  });

  it('false conflict records the base and transfers nothing', () => {
    const plan = planRound(input({ base: { x: h('1') }, local: { x: h('2') }, remote: { x: h('2') } }));
    expect(plan.steps).toEqual([{ kind: 'record-base', key: 'x', hash: h('2') }]);
    expect(plan.work).toBe(0);
  });

  it('uploads carry the base as precondition; creates carry none (If-None-Match)', () => {
    const plan = planRound(input({ base: { e: h('1') }, local: { e: h('2'), n: h('4') }, remote: { e: h('1') } }));
    expect(plan.steps).toEqual([
      { kind: 'upload', key: 'e', rel: 'e', hash: h('2'), ifMatch: h('1') },
      { kind: 'upload', key: 'n', rel: 'n', hash: h('4') },
    ]);
  });
});

describe('clashes and names', () => {
  it('a local file where the hub has a folder moves aside first (file<->folder)', () => {
    const plan = planRound(input({ local: { report: h('1') }, remote: { 'report/a.txt': h('2') } }));
    expect(plan.steps).toEqual([
      expect.objectContaining({ kind: 'move-aside', key: 'report', fromRel: 'report', toRel: 'report (conflict laptop 2026-05-06 070809)' }),
    ]);
  });

  it('a local folder where the hub has a file moves aside first (folder<->file)', () => {
    const plan = planRound(input({ local: { 'data/x.csv': h('1') }, remote: { data: h('2') }, dirs: ['data'] }));
    expect(plan.steps).toEqual([expect.objectContaining({ kind: 'move-aside', key: 'data', fromRel: 'data' })]);
  });

  it('a folder deleted on one side and replaced by a file on the other is no clash', () => {
    const plan = planRound(input({ base: { 'd/x': h('1') }, local: { 'd/x': h('1') }, remote: { d: h('2') } }));
    expect(kinds(plan.steps)).toEqual(['download:d', 'delete-local:d/x']);
  });

  it('an NFD spelling downloads into the file that is on disk, not a second one', () => {
    const nfd = 'cafe\u0301.txt';
    const plan = planRound(input({ base: { 'café.txt': h('1') }, local: { 'café.txt': { rel: nfd, hash: h('1') } }, remote: { 'café.txt': h('2') } }));
    expect(plan.steps).toEqual([{ kind: 'download', key: 'café.txt', rel: nfd, hash: h('2'), expectLocal: h('1') }]);
  });

  it('NFC and NFD twins on disk: the non-NFC one moves aside', () => {
    const nfd = 'cafe\u0301.txt';
    const plan = planRound(input({ local: { 'café.txt': h('1') }, extra: { twins: [{ key: 'café.txt', rel: nfd }] } }));
    expect(plan.steps[0]).toMatchObject({ kind: 'move-aside', fromRel: nfd });
    expect(plan.steps).toHaveLength(1);
  });

  it('case-only clash on a case-insensitive filesystem is reported, not overwritten', () => {
    const plan = planRound(input({ local: { 'Notes.txt': h('1') }, remote: { 'notes.txt': h('2'), 'Notes.txt': h('1') }, extra: { caseInsensitive: true } }));
    expect(plan.steps).toEqual([
      { kind: 'record-base', key: 'Notes.txt', hash: h('1') },
      expect.objectContaining({ kind: 'skip', key: 'notes.txt', code: 'case_clash' }),
    ]);
  });

  it('case-only rename on a case-insensitive filesystem: the old name is deleted first, so no clash', () => {
    const plan = planRound(
      input({ base: { 'notes.txt': h('1') }, local: { 'notes.txt': h('1') }, remote: { 'Notes.txt': h('1') }, extra: { caseInsensitive: true } }),
    );
    expect(kinds(plan.steps)).toEqual(['download:Notes.txt', 'delete-local:notes.txt']);
  });

  it('a name the hub would refuse is reported and never sent', () => {
    const plan = planRound(input({ local: { 'aux.txt': h('1'), 'ok.txt': h('2') } }));
    expect(plan.steps[0]).toMatchObject({ kind: 'skip', key: 'aux.txt', code: 'bad_path' });
    expect(plan.steps[1]).toMatchObject({ kind: 'upload', key: 'ok.txt' });
  });
});

describe('refused files are not retried in a loop', () => {
  const failure = { reason: 'too_large', message: 'file is over 10 MiB', hash: h('9'), attempts: 1, failed_at: '', next_retry_at: new Date(now.getTime() + 1000).toISOString() };
  it('the same bytes are skipped until the backoff ends', () => {
    const plan = planRound(input({ local: { big: h('9') }, extra: { failures: { big: failure } } }));
    expect(plan.steps).toEqual([{ kind: 'skip', key: 'big', code: 'too_large', message: 'file is over 10 MiB' }]);
  });
  it('a changed file is tried again at once', () => {
    const plan = planRound(input({ local: { big: h('8') }, extra: { failures: { big: failure } } }));
    expect(kinds(plan.steps)).toEqual(['upload:big']);
  });
  it('after the long backoff the same bytes are tried once more', () => {
    const plan = planRound(input({ local: { big: h('9') }, extra: { failures: { big: { ...failure, next_retry_at: new Date(now.getTime() - 1).toISOString() } } } }));
    expect(kinds(plan.steps)).toEqual(['upload:big']);
  });
});

describe('guard', () => {
  it('an emptied local folder with a base stops the round', () => {
    const base = Object.fromEntries(Array.from({ length: 3 }, (_, i) => [`f${i}`, h('1')]));
    const plan = planRound(input({ base, remote: base, extra: { localRoot: 'empty' } }));
    expect(plan.guard.stop).toBe(true);
  });
  it('deleting most files on the hub stops the round', () => {
    const base = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`f${i}`, h('1')]));
    const local = Object.fromEntries(Object.entries(base).slice(0, 5));
    const plan = planRound(input({ base, local, remote: base }));
    expect(plan.guard).toMatchObject({ stop: true });
  });
});
