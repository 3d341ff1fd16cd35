// The store's batch write (writeMany, behind POST /bulk) and the agent watcher's handling of the
// hub's own writes, in-process on a temp data dir: a batch must behave exactly as its items
// written one by one, in request order, leave no temp file behind, announce each change once,
// and the watcher must not record (or even consider recording) what the hub itself wrote.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, open, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Change } from '../../shared/protocol.ts';
import { silentLogger } from '../../server/log.ts';
import { watchAgentWrites, type AgentWatcher } from '../../server/workspace/agent-watcher.ts';
import { FsWorkspaceStore, type BatchItem, type BatchResult, type FsStoreOptions } from '../../server/workspace/fs-store.ts';
import { independentGroups } from '../../server/workspace/write-plan.ts';
import { writeSlowly } from '../helpers/slow-writer.ts';

const sha = (s: string | Buffer): string => 'sha256:' + createHash('sha256').update(s).digest('hex');
const U = 'alice';

let dir: string;
let store: FsWorkspaceStore;
let feed: Change[];
let watcher: AgentWatcher | undefined;

function open_(extra: Partial<FsStoreOptions> = {}): void {
  store = new FsWorkspaceStore({ dataDir: dir, maxFileBytes: 1000, maxWorkspaceBytes: 100_000, versionRetentionDays: 30, log: silentLogger(), ...extra });
  feed = [];
  store.onChange((u, c) => {
    if (u === U) feed.push(c);
  });
}
const ws = (): string => store.workspaceDir(U);
const create = (path: string, body: string | Buffer): BatchItem => ({ path, bytes: Buffer.from(body), opts: { ifNoneMatch: true, expectedHash: sha(body), source: 'client' } });
const replace = (path: string, body: string | Buffer, ifMatch: string): BatchItem => ({ path, bytes: Buffer.from(body), opts: { ifMatch, expectedHash: sha(body), source: 'client' } });
/** 'ok', or the StoreError code (another error: its message). */
const outcome = (r: BatchResult): string => (r.ok ? 'ok' : ((r.error as { code?: string }).code ?? (r.error as Error).message));

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hub-batch-'));
  open_();
});
afterEach(async () => {
  await watcher?.close();
  watcher = undefined;
  // Whatever a test did, no upload temp file survives it.
  expect(await readdir(store.tmpDir(U)).catch(() => [])).toEqual([]);
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

describe('writeMany: a batch behaves as its items applied one by one, in order', () => {
  it('mixed creates, overwrites, 412s, same bytes, a hash mismatch and a bad path', async () => {
    await mkdir(ws(), { recursive: true });
    await writeFile(join(ws(), 'old.txt'), 'old');
    await writeFile(join(ws(), 'same.txt'), 'same');
    const liar: BatchItem = { path: 'liar.txt', bytes: Buffer.from('real'), opts: { ifNoneMatch: true, expectedHash: sha('other'), source: 'client' } };
    const r = await store.writeMany(U, [
      create('new/a.txt', 'a'),
      replace('old.txt', 'newer', sha('old')),
      create('old.txt', 'clobber'),
      replace('same.txt', 'same', sha('same')),
      liar,
      create('../escape.txt', 'x'),
      replace('gone.txt', 'x', sha('x')),
      create('new/b.txt', 'b'),
    ]);
    expect(r.map(outcome)).toEqual(['ok', 'ok', 'precondition_failed', 'ok', 'hash_mismatch', 'bad_path', 'precondition_failed', 'ok']);
    expect(r[0]).toMatchObject({ ok: true, entry: { path: 'new/a.txt', hash: sha('a'), size: 1 } });
    expect(await readFile(join(ws(), 'old.txt'), 'utf8')).toBe('newer');
    expect(await readFile(join(ws(), 'new/b.txt'), 'utf8')).toBe('b');
    expect(existsSync(join(ws(), 'liar.txt'))).toBe(false);
    expect(existsSync(join(dir, U, 'escape.txt'))).toBe(false);
    // The overwrite kept the old bytes as a version.
    expect((await store.versions(U, 'old.txt')).map((v) => [v.hash, v.reason])).toEqual([[sha('old'), 'overwrite']]);
    // Each real change announced once, as the client's; the same-bytes re-upload not at all.
    expect(feed.map((c) => [c.path, c.hash, c.source])).toEqual([
      ['new/a.txt', sha('a'), 'client'],
      ['old.txt', sha('newer'), 'client'],
      ['new/b.txt', sha('b'), 'client'],
    ]);
  });

  it('a path twice in one batch: the second sees the first applied', async () => {
    const r = await store.writeMany(U, [
      create('dup.txt', 'v1'),
      replace('dup.txt', 'v2', sha('v1')),
      create('dup.txt', 'v3'),
      replace('dup.txt', 'v4', sha('v1')),
      replace('dup.txt', 'v2', sha('v2')),
    ]);
    expect(r.map(outcome)).toEqual(['ok', 'ok', 'precondition_failed', 'precondition_failed', 'ok']);
    expect(await readFile(join(ws(), 'dup.txt'), 'utf8')).toBe('v2');
    expect((await store.versions(U, 'dup.txt')).map((v) => v.hash)).toEqual([sha('v1')]);
    expect(feed.map((c) => c.hash)).toEqual([sha('v1'), sha('v2')]);
  });

  it('a file and a path under it in one batch: parent-is-a-file and folder-in-the-way, as in order', async () => {
    const r = await store.writeMany(U, [create('p', 'file'), create('p/child', 'x'), create('q/child', 'y'), create('q', 'file')]);
    expect(r.map(outcome)).toEqual(['ok', 'conflict', 'ok', 'conflict']);
    expect((await lstat(join(ws(), 'p'))).isFile()).toBe(true);
    expect(await readFile(join(ws(), 'q/child'), 'utf8')).toBe('y');
    expect(feed.map((c) => c.path)).toEqual(['p', 'q/child']);
  });

  it('a folder or a symlink in the way, or a symlinked parent: refused, nothing written through it', async () => {
    const outside = join(dir, 'outside');
    await mkdir(outside, { recursive: true });
    await mkdir(join(ws(), 'folder'), { recursive: true });
    await symlink(outside, join(ws(), 'link'));
    await symlink(join(outside, 'target.txt'), join(ws(), 'file-link'));
    const r = await store.writeMany(U, [create('folder', 'x'), create('link/inside.txt', 'x'), create('file-link', 'x'), create('fine.txt', 'fine')]);
    expect(r.map(outcome)).toEqual(['conflict', 'bad_path', 'conflict', 'ok']);
    expect(await readdir(outside)).toEqual([]);
    expect((await lstat(join(ws(), 'file-link'))).isSymbolicLink()).toBe(true);
    expect(feed.map((c) => c.path)).toEqual(['fine.txt']);
  });

  it('the quota is counted across the batch in order, and after it', async () => {
    await store.close();
    open_({ maxWorkspaceBytes: 1000 });
    const r = await store.writeMany(U, [
      create('q1', Buffer.alloc(400, 1)),
      create('q2', Buffer.alloc(400, 2)),
      create('q3', Buffer.alloc(400, 3)), // 1200 > 1000
      create('q4', Buffer.alloc(100, 4)), // 900 fits
      replace('q1', Buffer.alloc(450, 5), sha(Buffer.alloc(400, 1))), // 950 fits (the 400 replaced)
      create('q5', Buffer.alloc(100, 6)), // 1050 does not
    ]);
    expect(r.map(outcome)).toEqual(['ok', 'ok', 'quota_exceeded', 'ok', 'ok', 'quota_exceeded']);
    expect(existsSync(join(ws(), 'q3'))).toBe(false);
    // The batch left the usage count right: 950 used, 50 left.
    expect((await store.writeMany(U, [create('late', Buffer.alloc(51, 7))])).map(outcome)).toEqual(['quota_exceeded']);
    expect((await store.writeMany(U, [create('late', Buffer.alloc(50, 7))])).map(outcome)).toEqual(['ok']);
  });

  it('names the agent wrote in NFD are found by their NFC path in a batch (shared lookups per folder)', async () => {
    const nfd = 'cafe\u0301';
    const nfc = 'caf\u00e9';
    await mkdir(join(ws(), `${nfd}-dir`), { recursive: true });
    await writeFile(join(ws(), `${nfd}-dir`, `${nfd}.txt`), 'agent');
    await writeFile(join(ws(), `${nfd}-dir`, 'plain.txt'), 'plain');
    const r = await store.writeMany(U, [
      replace(`${nfc}-dir/${nfc}.txt`, 'replaced', sha('agent')),
      create(`${nfc}-dir/${nfc}.txt`.replace('.txt', '-2.txt'), 'new'),
      create(`${nfc}-dir/plain.txt`, 'clobber'),
    ]);
    expect(r.map(outcome)).toEqual(['ok', 'ok', 'precondition_failed']);
    // Written over the agent's NFD spelling, into the agent's NFD folder: never a second twin.
    expect(await readFile(join(ws(), `${nfd}-dir`, `${nfd}.txt`), 'utf8')).toBe('replaced');
    expect((await readdir(ws())).sort()).toEqual([`${nfd}-dir`]);
    expect((await readdir(join(ws(), `${nfd}-dir`))).sort()).toEqual([`${nfc}-2.txt`, `${nfd}.txt`, 'plain.txt'].sort());
  });

  it('too large items are refused on their own', async () => {
    const r = await store.writeMany(U, [create('big', Buffer.alloc(1001, 1)), create('small', 's')]);
    expect(r.map(outcome)).toEqual(['too_large', 'ok']);
  });

  it('a lost lock before the renames: every item fails, nothing visible, no temp file left', async () => {
    await store.close();
    open_({ locks: { run: (_k, fn) => fn({ assertHeld: () => { throw new Error('lock lost'); } }) } });
    const r = await store.writeMany(U, [create('l1', 'a'), create('l2', 'b')]);
    expect(r.map((x) => x.ok)).toEqual([false, false]);
    expect(existsSync(join(ws(), 'l1'))).toBe(false);
    expect(feed).toEqual([]);
  });

  it('a lock that cannot be taken: every item fails, no temp file left', async () => {
    await store.close();
    open_({ locks: { run: () => Promise.reject(new Error('redis down')) } });
    const r = await store.writeMany(U, [create('l1', 'a'), create('bad/../x', 'b')]);
    expect(r.map(outcome)).toEqual(['redis down', 'bad_path']);
    expect(existsSync(join(ws(), 'l1'))).toBe(false);
  });

  it('many files over a few folders land whole, in order, each announced once', async () => {
    const items = Array.from({ length: 300 }, (_, i) => create(`d${i % 7}/e${i % 3}/f${i}.txt`, `content ${i}`));
    const r = await store.writeMany(U, items);
    expect(r.every((x) => x.ok)).toBe(true);
    expect(r.map((x) => (x.ok ? x.entry.path : ''))).toEqual(items.map((x) => x.path));
    for (const i of [0, 150, 299]) expect(await readFile(join(ws(), items[i]!.path), 'utf8')).toBe(`content ${i}`);
    expect(feed.map((c) => c.path)).toEqual(items.map((x) => x.path));
    expect((await store.list(U)).files).toHaveLength(300);
  });
});

describe('independentGroups', () => {
  it('cuts at a repeated path or a path under/over an earlier one, never otherwise', () => {
    expect(independentGroups(['a', 'b', 'c/d', 'c/e'])).toEqual([[0, 1, 2, 3]]);
    expect(independentGroups(['a', 'b', 'a'])).toEqual([[0, 1], [2]]);
    expect(independentGroups(['a', 'a/b'])).toEqual([[0], [1]]);
    expect(independentGroups(['x/y/z', 'x/y'])).toEqual([[0], [1]]);
    expect(independentGroups(['ab', 'a/b', 'abc'])).toEqual([[0, 1, 2]]);
    expect(independentGroups(['Read.me', 'read.ME'])).toEqual([[0], [1]]);
  });
});

describe('the agent watcher and the hub\u2019s own writes', () => {
  /** The watcher on the real store, counting how often it asks the store to record something. */
  async function watchCounting(): Promise<string[]> {
    const asked: string[] = [];
    const spy = {
      isOwnFile: store.isOwnFile.bind(store),
      recordExternal: (u: string, rel: string, kind: 'upsert' | 'delete') => {
        asked.push(`${kind} ${rel}`);
        return store.recordExternal(u, rel, kind);
      },
    };
    await mkdir(ws(), { recursive: true });
    watcher = watchAgentWrites(spy, dir, silentLogger(), { stabilityMs: 150, settleMs: 100 });
    await watcher.ready;
    return asked;
  }

  it('a bulk write into new folders is dropped at once by the watcher (and its rescans), announced once', async () => {
    const asked = await watchCounting();
    const items = Array.from({ length: 200 }, (_, i) => create(`new${i % 5}/sub/f${i}.txt`, `x${i}`));
    expect((await store.writeMany(U, items)).every((x) => x.ok)).toBe(true);
    await new Promise((r) => setTimeout(r, 1200)); // events, stability waits and folder rescans are over by now
    expect(asked).toEqual([]);
    expect(feed.length).toBe(200);
    expect(feed.every((c) => c.source === 'client')).toBe(true);
    expect(new Set(feed.map((c) => c.path)).size).toBe(200);
  });

  it('an agent file in a just-created folder is announced once, as the agent\u2019s; a slow one only whole', async () => {
    const asked = await watchCounting();
    await mkdir(join(ws(), 'reports', 'deep'), { recursive: true });
    await writeFile(join(ws(), 'reports', 'deep', 'agent.md'), 'by the agent');
    const full = await writeSlowly(join(ws(), 'reports', 'slow.txt'));
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline && feed.filter((c) => c.source === 'agent').length < 2) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 600)); // room for a wrong second announcement
    expect(feed.map((c) => [c.path, c.hash, c.source])).toEqual(
      expect.arrayContaining([
        ['reports/deep/agent.md', sha('by the agent'), 'agent'],
        ['reports/slow.txt', sha(full), 'agent'],
      ]),
    );
    expect(feed).toHaveLength(2);
    expect(asked.filter((a) => a.endsWith('slow.txt'))).toEqual(['upsert reports/slow.txt']);
  });
});

describe('a conditional listing waits for what the agent watcher has in hand', () => {
  it('unchangedSince is false while an agent file is still being written, and true once it is announced', async () => {
    // A store that asks the watcher (made below, as it needs the store) whether it has changes in hand.
    await store.close();
    open_({ agentSettled: (u) => watcher!.settled(u) });
    await mkdir(ws(), { recursive: true });
    watcher = watchAgentWrites(store, dir, silentLogger(), { stabilityMs: 150, settleMs: 100 });
    await watcher.ready;
    const { cursor } = await store.list(U);
    expect(await store.unchangedSince(U, cursor)).toBe(true);

    const fh = await open(join(ws(), 'growing.txt'), 'w');
    const seenWhileWriting: boolean[] = [];
    for (let i = 0; i < 8; i++) {
      await fh.write(`chunk ${i}\n`);
      await new Promise((r) => setTimeout(r, 60));
      // The journal has not moved yet (the file is not stable): only the watcher knows.
      if (feed.length === 0) seenWhileWriting.push(await store.unchangedSince(U, cursor));
    }
    await fh.close();
    // After the first event reached the watcher, a 304 would hide the file: never allowed.
    expect(seenWhileWriting.slice(2)).not.toContain(true);
    expect(seenWhileWriting.length).toBeGreaterThan(2);
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline && feed.length === 0) await new Promise((r) => setTimeout(r, 25));
    expect(feed.map((c) => c.path)).toEqual(['growing.txt']);
    // Announced: the old cursor is stale, the new one is clean again once the watcher is idle.
    expect(await store.unchangedSince(U, cursor)).toBe(false);
    const now = await store.list(U);
    while (Date.now() < deadline && !watcher.settled(U)) await new Promise((r) => setTimeout(r, 25));
    expect(await store.unchangedSince(U, now.cursor)).toBe(true);
  });
});

describe('verification walks and shutdown', () => {
  it('a walk asked for after close() starts nothing and writes nothing into the data dir', async () => {
    await store.writeMany(U, [create('a.txt', 'a')]);
    await store.verify(U); // a walk before close works
    await store.close();
    // The data dir may be removed right after close (tests, a volume unmounted): a late walk must not recreate it.
    await rm(join(dir, U), { recursive: true, force: true });
    await store.verify(U);
    expect(existsSync(join(dir, U))).toBe(false);
    open_(); // afterEach closes a store
  });
});

