// The client state's change tracking (app/sync/state.ts): `save` writes without serialising to
// compare, so every kind of change must mark the state; a change that is not saved would be a bug.
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseState, StateStore, type SyncState } from '../../app/sync/state.ts';

const H = 'sha256:' + 'a'.repeat(64);
const H2 = 'sha256:' + 'b'.repeat(64);
const entry = { size: 1, mtime_ms: 2, ino: 3, hash: H };
const conflict = {
  path: 'c.txt',
  copy_path: 'c (conflict d 2026-01-01 000000).txt',
  device: 'd',
  detected_at: '2026-01-01T00:00:00.000Z',
  mine: { size: 1, modified: '', hash: H },
  theirs: { size: 1, modified: '', hash: H2 },
};
const failure = { reason: 'too_large', message: 'too big', hash: H, attempts: 1, failed_at: '2026-01-01T00:00:00.000Z', next_retry_at: '1970-01-01T00:00:00.001Z' };

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'state-track-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A store whose file holds a state with one of everything, loaded afresh (nothing to write yet). */
async function seeded(): Promise<{ store: StateStore; state: SyncState }> {
  const first = new StateStore(dir);
  const { state } = await first.load();
  state.base['a.txt'] = H;
  state.base['b.txt'] = H;
  state.cache['a.txt'] = entry;
  state.cache['b.txt'] = { ...entry, ino: 4 };
  state.conflicts.push(conflict);
  state.failures['big.bin'] = failure;
  state.clean_cursor = 'e1:5';
  expect(await first.save(state)).toBe(true);
  const store = new StateStore(dir);
  const loaded = await store.load();
  expect(await store.save(loaded.state)).toBe(false);
  return { store, state: loaded.state };
}

async function onDisk(store: StateStore): Promise<SyncState> {
  return parseState(JSON.parse(await readFile(store.file, 'utf8')));
}

describe('state change tracking', () => {
  const changes: [string, (s: SyncState) => void, (s: SyncState) => void][] = [
    ['base: set', (s) => (s.base['c.txt'] = H2), (d) => expect(d.base['c.txt']).toBe(H2)],
    ['base: replace a value', (s) => (s.base['a.txt'] = H2), (d) => expect(d.base['a.txt']).toBe(H2)],
    ['base: delete', (s) => delete s.base['a.txt'], (d) => expect(d.base).not.toHaveProperty('a.txt')],
    ['base: replace the record', (s) => (s.base = { 'z.txt': H }), (d) => expect(d.base).toEqual({ 'z.txt': H })],
    ['cache: set', (s) => (s.cache['n.txt'] = { ...entry, ino: 9 }), (d) => expect(d.cache['n.txt']?.ino).toBe(9)],
    ['cache: replace an entry', (s) => (s.cache['a.txt'] = { ...entry, mtime_ms: 7 }), (d) => expect(d.cache['a.txt']?.mtime_ms).toBe(7)],
    ['cache: delete', (s) => delete s.cache['b.txt'], (d) => expect(d.cache).not.toHaveProperty('b.txt')],
    ['cache: replace the record (one entry differs)', (s) => (s.cache = { 'a.txt': entry, 'b.txt': { ...entry, ino: 5 } }), (d) => expect(d.cache['b.txt']?.ino).toBe(5)],
    ['cache: replace the record (one entry fewer)', (s) => (s.cache = { 'a.txt': entry }), (d) => expect(Object.keys(d.cache)).toEqual(['a.txt'])],
    ['conflicts: push', (s) => s.conflicts.push({ ...conflict, copy_path: 'other' }), (d) => expect(d.conflicts).toHaveLength(2)],
    ['conflicts: splice', (s) => s.conflicts.splice(0, 1), (d) => expect(d.conflicts).toHaveLength(0)],
    ['conflicts: replace the array', (s) => (s.conflicts = s.conflicts.filter(() => false)), (d) => expect(d.conflicts).toHaveLength(0)],
    ['conflicts: index write', (s) => (s.conflicts[0] = { ...conflict, device: 'e' }), (d) => expect(d.conflicts[0]?.device).toBe('e')],
    ['failures: set', (s) => (s.failures['x'] = failure), (d) => expect(d.failures).toHaveProperty('x')],
    ['failures: delete', (s) => delete s.failures['big.bin'], (d) => expect(d.failures).toEqual({})],
    ['failures: replace the record', (s) => (s.failures = {}), (d) => expect(d.failures).toEqual({})],
    ['clean_cursor: set', (s) => (s.clean_cursor = 'e1:9'), (d) => expect(d.clean_cursor).toBe('e1:9')],
    ['clean_cursor: delete', (s) => delete s.clean_cursor, (d) => expect(d.clean_cursor).toBeUndefined()],
  ];
  it.each(changes)('%s is written by the next save', async (_name, change, check) => {
    const { store, state } = await seeded();
    change(state);
    expect(store.changed).toBe(true);
    expect(await store.save(state)).toBe(true);
    check(await onDisk(store));
    // Written once; nothing more to write.
    expect(await store.save(state)).toBe(false);
  });

  it('writes of equal values are not changes (a no-change round writes nothing)', async () => {
    const { store, state } = await seeded();
    const before = (await stat(store.file)).mtimeMs;
    state.base['a.txt'] = H;
    state.cache['a.txt'] = { ...entry };
    state.cache = { 'a.txt': { ...entry }, 'b.txt': { ...entry, ino: 4 } };
    state.conflicts = [{ ...conflict }];
    state.failures = { 'big.bin': { ...failure } };
    state.clean_cursor = 'e1:5';
    delete state.base['nope'];
    expect(store.changed).toBe(false);
    expect(await store.save(state)).toBe(false);
    expect((await stat(store.file)).mtimeMs).toBe(before);
  });

  it('any change to base drops the clean cursor (it vouched for the old base)', async () => {
    for (const change of [(s: SyncState) => (s.base['new'] = H), (s: SyncState) => delete s.base['a.txt'], (s: SyncState) => (s.base = {})]) {
      const { store, state } = await seeded();
      state.clean_hidden = ['node_modules/x'];
      await store.save(state);
      change(state);
      expect(state.clean_cursor).toBeUndefined();
      expect(state.clean_hidden).toBeUndefined();
      await store.save(state);
      expect((await onDisk(store)).clean_cursor).toBeUndefined();
    }
    // A cache change does not.
    const { state } = await seeded();
    state.cache['x'] = entry;
    expect(state.clean_cursor).toBe('e1:5');
  });

  it('a record taken out and changed later is still tracked (views are live)', async () => {
    const { store, state } = await seeded();
    const base = state.base;
    await store.save(state);
    base['late.txt'] = H;
    expect(await store.save(state)).toBe(true);
    expect((await onDisk(store)).base['late.txt']).toBe(H);
  });

  it('loads a state file written differently (pretty, no clean_cursor) without rewriting it, and rejects bad entries', async () => {
    const old = { version: 2, base: { 'a.txt': H }, cache: { 'a.txt': entry }, conflicts: [], failures: {} };
    await writeFile(join(dir, 'state.json'), JSON.stringify(old, null, 2) + '\n');
    const store = new StateStore(dir);
    const { state, recovered } = await store.load();
    expect(recovered).toBeUndefined();
    expect(state).toEqual(old);
    expect(await store.save(state)).toBe(false);

    for (const bad of [
      { ...old, base: { 'a.txt': 5 } },
      { ...old, cache: { 'a.txt': { ...entry, ino: '3' } } },
      { ...old, cache: { 'a.txt': null } },
      { ...old, cache: [] },
      { ...old, clean_cursor: 7 },
      { ...old, conflicts: [{}] },
    ]) {
      expect(() => parseState(bad)).toThrow();
    }
    // Unknown keys of a cache entry are dropped, as zod's object parse did.
    expect(parseState({ ...old, cache: { 'a.txt': { ...entry, extra: 1 } } }).cache['a.txt']).toEqual(entry);
  });
});
