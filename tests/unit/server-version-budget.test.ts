// The version store's disk budget and the content copies' pruning (issue 14), on a real
// FsWorkspaceStore in a temp dir: over RALPH_VERSION_MAX_BYTES the oldest versions go first (and
// are reported), copies of current contents are never dropped, and a copy no path holds any more
// goes after its grace period while the versions made from it keep their bytes.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { FsWorkspaceStore } from '../../server/workspace/fs-store.ts';
import { sha } from '../model/model-helpers.ts';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function storeWith(versionMaxBytes: number): Promise<{ store: FsWorkspaceStore; dir: string; logs: string[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'youlab-budget-'));
  dirs.push(dir);
  const logs: string[] = [];
  const log = pino({ level: 'warn' }, { write: (line: string) => logs.push(line) });
  const store = new FsWorkspaceStore({ dataDir: dir, maxFileBytes: 1 << 20, maxWorkspaceBytes: 1 << 30, versionRetentionDays: 30, versionMaxBytes, log });
  return { store, dir, logs };
}

/** Writes `contents` one after another at `path` through the store (each replacing the last). */
async function writeSeries(store: FsWorkspaceStore, path: string, contents: string[]): Promise<void> {
  let prev: string | undefined;
  for (const c of contents) {
    await store.write('u', path, Buffer.from(c), prev === undefined ? { ifNoneMatch: true, source: 'client', origin: 'laptop' } : { ifMatch: sha(prev), source: 'client', origin: 'laptop' });
    prev = c;
  }
}

describe('version store disk budget', () => {
  it('drops the oldest versions until versions + copies fit, reports them, and keeps the current content', async () => {
    const { store, logs } = await storeWith(5_000);
    expect((await store.pruneVersions()).overBudget).toBe(0); // nothing yet
    const contents = Array.from({ length: 6 }, (_, i) => `${i}`.repeat(1_000));
    await writeSeries(store, 'a.md', contents);
    expect((await store.versions('u', 'a.md')).map((v) => v.origin)).toEqual(Array(5).fill('laptop'));
    const r = await store.pruneVersions();
    // 6 distinct contents of 1,000 bytes: the current one's copy plus 5 versions = 6,000 > 5,000:
    // the oldest version goes, and 5,000 fits.
    expect(r.overBudget).toBe(1);
    const left = await store.versions('u', 'a.md');
    expect(left.map((v) => v.hash)).toEqual([4, 3, 2, 1].map((i) => sha(contents[i]!)));
    expect(logs.join('')).toMatch(/version store over its disk budget/);
    expect(await readFile(join(store.workspaceDir('u'), 'a.md'), 'utf8')).toBe(contents[5]);
    // A second prune finds nothing more to drop.
    expect((await store.pruneVersions()).overBudget).toBe(0);
    await store.close();
  });

  it('no budget (0): nothing is dropped for size', async () => {
    const { store } = await storeWith(0);
    await writeSeries(store, 'a.md', ['x'.repeat(4_000), 'y'.repeat(4_000), 'z'.repeat(4_000)]);
    expect((await store.pruneVersions()).overBudget).toBe(0);
    expect(await store.versions('u', 'a.md')).toHaveLength(2);
    await store.close();
  });

  it('a copy no path holds goes after the grace period; versions made from it keep the bytes', async () => {
    const { store, dir } = await storeWith(0);
    await writeSeries(store, 'b.md', ['first\n', 'second\n']);
    const copies = (): Promise<string[]> => readdir(join(dir, 'u', '.hub', 'contents'));
    expect((await copies()).sort()).toEqual([sha('first\n').slice(7), sha('second\n').slice(7)].sort());
    expect((await store.pruneVersions()).contents).toBe(0); // within the grace period
    const later = await store.pruneVersions(Date.now() + 11 * 60_000);
    expect(later.contents).toBe(1);
    expect(await copies()).toEqual([sha('second\n').slice(7)]);
    const [v] = await store.versions('u', 'b.md');
    const restored = await store.restore('u', 'b.md', v!.id);
    expect(restored.hash).toBe(sha('first\n'));
    expect(await readFile(join(store.workspaceDir('u'), 'b.md'), 'utf8')).toBe('first\n');
    await store.close();
  });
});
