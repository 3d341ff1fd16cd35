// The folder probe (app/sync/folder-probe.ts) and what the planner does with its answer: the
// decision logic on fake filesystems (case-insensitive, normalization-insensitive, both, neither,
// one that refuses the temp file), the real probe on this machine's temp folder, and the plan's
// download skips for names the local OS cannot hold.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { assumedTraits, FolderTraitsCache, otherSpellings, probeFolder, probeName, type ProbeFs } from '../../app/sync/folder-probe.ts';
import { planRound, type PlanInput } from '../../app/sync/plan.ts';
import { createIgnore } from '../../shared/ignore-rules.ts';

/** A fake filesystem whose name lookup folds as told; it records what the probe did. */
function fakeFs(fold: (name: string) => string, opts: { refuseCreate?: string } = {}): ProbeFs & { files: Set<string>; calls: string[] } {
  const files = new Set<string>();
  const calls: string[] = [];
  return {
    files,
    calls,
    async create(p) {
      calls.push(`create ${p}`);
      if (opts.refuseCreate) throw new Error(opts.refuseCreate);
      if (files.has(fold(p))) throw new Error('EEXIST');
      files.add(fold(p));
    },
    async exists(p) {
      calls.push(`exists ${p}`);
      return files.has(fold(p));
    },
    async remove(p) {
      calls.push(`remove ${p}`);
      files.delete(fold(p));
    },
  };
}
const exact = (n: string) => n;
const caseFold = (n: string) => n.toLowerCase();
const nfcFold = (n: string) => n.normalize('NFC');
const bothFold = (n: string) => n.normalize('NFC').toLowerCase();

describe('probeFolder on fakes', () => {
  it.each([
    ['case-sensitive, normalization-sensitive (ext4)', exact, false, false],
    ['case-insensitive only (NTFS, vfat, ext4 casefold)', caseFold, true, false],
    ['normalization-insensitive only', nfcFold, false, true],
    ['both (APFS default)', bothFold, true, true],
  ])('%s', async (_name, fold, ci, ni) => {
    const fs = fakeFs(fold);
    expect(await probeFolder('/f', fs, 'abc123')).toEqual({ caseInsensitive: ci, normalizationInsensitive: ni, source: 'probe' });
    // The temp file is gone again, and it was the only one made.
    expect(fs.files.size).toBe(0);
    expect(fs.calls.filter((c) => c.startsWith('create'))).toEqual([`create /f/${probeName('abc123')}`]);
  });

  it('the probe name tries ASCII case and NFC/NFD, and is left out by the default ignore rules', () => {
    const name = probeName('abc123');
    const { otherCase, otherNormalization } = otherSpellings(name);
    expect(otherCase).not.toBe(name);
    expect(otherCase.toLowerCase()).toBe(name);
    expect(otherNormalization).not.toBe(name);
    expect(otherNormalization.normalize('NFC')).toBe(name);
    expect(createIgnore().ignores(name)).toBe(true);
  });

  it('a folder that refuses the temp file is an error for the probe (the cache then assumes)', async () => {
    await expect(probeFolder('/f', fakeFs(exact, { refuseCreate: 'EROFS: read-only file system' }))).rejects.toThrow(/EROFS/);
  });
});

describe('FolderTraitsCache', () => {
  it('assumes the OS default while the probe cannot run, probes again next time, then keeps the answer; each new answer is logged once', async () => {
    const lines: string[] = [];
    let refuse = 'ENOENT: no such folder';
    const inner = fakeFs(caseFold);
    const fs: ProbeFs = { ...inner, create: (p) => (refuse ? Promise.reject(new Error(refuse)) : inner.create(p)) };
    const cache = new FolderTraitsCache('/f', 'win32', (l) => lines.push(l), fs);
    expect(cache.os).toBe('windows');
    expect(await cache.get()).toMatchObject({ caseInsensitive: true, source: 'assumed' });
    expect(await cache.get()).toMatchObject({ source: 'assumed' });
    expect(lines).toEqual([expect.stringMatching(/^\/f: case-insensitive .*assumed from the OS: the folder could not be probed \(ENOENT: no such folder\)/)]);
    refuse = '';
    expect(await cache.get()).toEqual({ caseInsensitive: true, normalizationInsensitive: false, source: 'probe' });
    refuse = 'would fail now';
    expect(await cache.get()).toMatchObject({ source: 'probe' });
    expect(lines).toHaveLength(2);
    expect(lines[1]).toBe('/f: case-insensitive (names that differ only in case are reported as clashes)');
  });

  it.each([
    ['win32', true, false],
    ['darwin', true, true],
    ['linux', false, false],
  ])('assumed traits on %s', (platform, ci, ni) => {
    const os = platform === 'win32' ? 'windows' : platform === 'darwin' ? 'mac' : 'other';
    expect(assumedTraits(os, 'x')).toMatchObject({ caseInsensitive: ci, normalizationInsensitive: ni });
  });
});

describe('the real probe on this machine', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  // The expectation is Linux's (ext4/tmpfs); macOS and Windows temp folders differ by design.
  it.skipIf(process.platform !== 'linux')('a Linux temp folder is case- and normalization-sensitive, and the probe leaves nothing behind', async () => {
    dir = await mkdtemp(join(tmpdir(), 'probe-'));
    expect(await probeFolder(dir)).toEqual({ caseInsensitive: false, normalizationInsensitive: false, source: 'probe' });
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('the plan with the probe answer and the local OS', () => {
  const h = (c: string) => `sha256:${c.repeat(64)}`;
  const input = (remote: Record<string, string>, extra: Partial<PlanInput> = {}): PlanInput => ({
    base: new Map(),
    local: new Map(),
    localDirs: new Set(),
    remote: new Map(Object.entries(remote).map(([k, v]) => [k, { hash: v, size: 1, modified: '' }])),
    device: 'laptop',
    now: new Date('2026-01-01T00:00:00Z'),
    localRoot: 'ok',
    ...extra,
  });

  it('on Windows, the hub files Windows cannot hold are skipped (direction down) and the rest come down', () => {
    const plan = planRound(input({ 'aux.md': h('1'), 'notes:v2.md': h('2'), 'ok.md': h('3') }, { localOs: 'windows' }));
    expect(plan.steps).toEqual([
      { kind: 'skip', key: 'aux.md', code: 'bad_path', dir: 'down', message: expect.stringMatching(/Windows cannot hold this name .*e\.g\. to '_aux\.md'/) },
      { kind: 'skip', key: 'notes:v2.md', code: 'bad_path', dir: 'down', message: expect.stringMatching(/e\.g\. to 'notes-v2\.md'/) },
      { kind: 'download', key: 'ok.md', rel: 'ok.md', hash: h('3') },
    ]);
    expect(plan.work).toBe(1);
  });

  it('on Linux the same files all come down', () => {
    const plan = planRound(input({ 'aux.md': h('1'), 'notes:v2.md': h('2') }, { localOs: 'other' }));
    expect(plan.steps.map((s) => s.kind)).toEqual(['download', 'download']);
  });

  it('on a case-insensitive folder, two new hub files that differ only in case: the first comes down, the other is a clash', () => {
    const plan = planRound(input({ 'notes.txt': h('1'), 'Notes.txt': h('2') }, { caseInsensitive: true }));
    expect(plan.steps).toEqual([
      { kind: 'download', key: 'Notes.txt', rel: 'Notes.txt', hash: h('2') },
      expect.objectContaining({ kind: 'skip', key: 'notes.txt', code: 'case_clash', dir: 'down', message: 'differs only in case from Notes.txt, which this filesystem cannot hold beside it' }),
    ]);
    // A case-sensitive folder holds both.
    expect(planRound(input({ 'notes.txt': h('1'), 'Notes.txt': h('2') })).steps.map((s) => s.kind)).toEqual(['download', 'download']);
  });

  it('a case-insensitive folder reports a case-only twin of a local file as a clash, down', () => {
    const local = new Map([['notes.txt', { rel: 'notes.txt', hash: h('1'), size: 1 }]]);
    const plan = planRound(input({ 'notes.txt': h('1'), 'Notes.txt': h('2') }, { local, base: new Map([['notes.txt', h('1')]]), caseInsensitive: true }));
    expect(plan.steps).toContainEqual(expect.objectContaining({ kind: 'skip', key: 'Notes.txt', code: 'case_clash', dir: 'down' }));
  });
});
