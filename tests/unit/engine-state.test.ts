import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { emptyState, parseState, StateStore } from '../../app/sync/state.ts';
import { planRound } from '../../app/sync/plan.ts';
import { StateDirBusyError, StateLock } from '../../app/sync/state-lock.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'state-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const H = 'sha256:' + 'a'.repeat(64);

describe('state store', () => {
  it('missing file starts empty', async () => {
    const { state, recovered } = await new StateStore(dir).load();
    expect(state).toEqual(emptyState());
    expect(recovered).toBeUndefined();
  });

  it('round-trips and writes only when something changed (idempotence)', async () => {
    const store = new StateStore(dir);
    const { state } = await store.load();
    state.base['a.txt'] = H;
    expect(await store.save(state)).toBe(true);
    const before = (await stat(store.file)).mtimeMs;
    expect(await store.save(state)).toBe(false);
    expect((await stat(store.file)).mtimeMs).toBe(before);
    // A restarted engine that changes nothing writes nothing either.
    const restarted = new StateStore(dir);
    const again = await restarted.load();
    expect(again.state.base).toEqual({ 'a.txt': H });
    expect(await restarted.save(again.state)).toBe(false);
  });

  it.each([
    ['not JSON', '{"version":1,"base":{'],
    ['wrong shape', '{"version":1,"base":[1,2]}'],
    ['wrong version', '{"version":9,"base":{},"cache":{},"conflicts":[],"failures":{}}'],
    ['empty file', ''],
  ])('corrupt state (%s) starts empty and keeps the bad file aside', async (_name, text) => {
    await writeFile(join(dir, 'state.json'), text);
    const { state, recovered } = await new StateStore(dir).load();
    expect(state).toEqual(emptyState());
    expect(recovered).toMatch(/unreadable/);
    const names = await readdir(dir);
    const aside = names.find((n) => n.startsWith('state.json.corrupt-'));
    expect(aside).toBeDefined();
    expect(await readFile(join(dir, aside!), 'utf8')).toBe(text);
  });

  it('empty state after corruption merges and never deletes (invariant 9)', async () => {
    await writeFile(join(dir, 'state.json'), 'garbage');
    const { state } = await new StateStore(dir).load();
    const plan = planRound({
      base: new Map(Object.entries(state.base)),
      local: new Map([['only-here.txt', { rel: 'only-here.txt', hash: H, size: 1 }]]),
      localDirs: new Set(),
      remote: new Map([['only-there.txt', { hash: 'sha256:' + 'b'.repeat(64), size: 1, modified: '' }]]),
      device: 'dev',
      now: new Date(0),
      localRoot: 'ok',
    });
    expect(plan.steps.map((s) => s.kind).sort()).toEqual(['download', 'upload']);
  });
});

describe('state file version 1 (before the snake_case state)', () => {
  const H2 = 'sha256:' + 'b'.repeat(64);
  const H3 = 'sha256:' + 'c'.repeat(64);
  const copy = 'notes (conflict laptop 2026-01-01 000000).md';
  // Byte for byte what a version 1 client wrote: compact JSON, keys in its order.
  const v1 =
    `{"version":1,"base":{"a.txt":"${H}","notes.md":"${H2}"},` +
    `"cache":{"a.txt":{"size":5,"mtimeMs":1767225600123.25,"ino":4242,"hash":"${H}"}},` +
    `"conflicts":[{"path":"notes.md","copyPath":"${copy}","device":"laptop","detectedAt":"2026-01-01T00:00:00.000Z",` +
    `"mine":{"size":3,"modified":"2025-12-31T23:59:00.000Z","hash":"${H3}"},"theirs":{"size":4,"modified":"2025-12-31T23:58:00.000Z","hash":"${H2}"}}],` +
    `"failures":{"big.bin":{"code":"too_large","message":"file is over 10 MiB","hash":"${H3}","at":"2026-01-01T00:00:00.000Z","retryAt":1767247200000}},` +
    `"cleanCursor":"e1:42","cleanHidden":["node_modules/x.js"]}`;
  const v2 = {
    version: 2,
    base: { 'a.txt': H, 'notes.md': H2 },
    cache: { 'a.txt': { size: 5, mtime_ms: 1767225600123.25, ino: 4242, hash: H } },
    conflicts: [
      {
        path: 'notes.md',
        copy_path: copy,
        device: 'laptop',
        detected_at: '2026-01-01T00:00:00.000Z',
        mine: { size: 3, modified: '2025-12-31T23:59:00.000Z', hash: H3 },
        theirs: { size: 4, modified: '2025-12-31T23:58:00.000Z', hash: H2 },
      },
    ],
    failures: {
      'big.bin': { reason: 'too_large', message: 'file is over 10 MiB', hash: H3, attempts: 1, failed_at: '2026-01-01T00:00:00.000Z', next_retry_at: '2026-01-01T06:00:00.000Z' },
    },
    clean_cursor: 'e1:42',
    clean_hidden: ['node_modules/x.js'],
  };

  it('loads, migrates, keeps everything, and is saved as version 2 by the next save', async () => {
    await writeFile(join(dir, 'state.json'), v1);
    const store = new StateStore(dir);
    const { state, recovered } = await store.load();
    expect(recovered).toBeUndefined();
    expect(state).toEqual(v2);
    // The refused bytes wait until the very instant the old file named.
    expect(Date.parse(state.failures['big.bin']!.next_retry_at)).toBe(1767247200000);
    // Read, not yet written: the file stays as it was until the next save, which writes version 2.
    expect(await readFile(join(dir, 'state.json'), 'utf8')).toBe(v1);
    expect(store.changed).toBe(true);
    expect(await store.save(state)).toBe(true);
    const text = await readFile(join(dir, 'state.json'), 'utf8');
    expect(JSON.parse(text)).toEqual(v2);
    expect(text).not.toMatch(/cleanCursor|cleanHidden|mtimeMs|copyPath|detectedAt|retryAt|"code"|"at"/);
    // Version 2 loads as it is: nothing more to write.
    const again = new StateStore(dir);
    const reloaded = await again.load();
    expect(reloaded.state).toEqual(v2);
    expect(await again.save(reloaded.state)).toBe(false);
  });

  it('keeps the retry rule: the same bytes wait until then, changed bytes go at once', async () => {
    await writeFile(join(dir, 'state.json'), v1);
    const { state } = await new StateStore(dir).load();
    const plan = (hash: string, now: Date) =>
      planRound({
        base: new Map(),
        local: new Map([['big.bin', { rel: 'big.bin', hash, size: 1 }]]),
        localDirs: new Set(),
        remote: new Map(),
        failures: state.failures,
        device: 'dev',
        now,
        localRoot: 'ok',
      }).steps.map((s) => s.kind);
    expect(plan(H3, new Date(1767247200000 - 1))).toEqual(['skip']);
    expect(plan(H3, new Date(1767247200000))).toEqual(['upload']);
    expect(plan(H2, new Date(1767247200000 - 1))).toEqual(['upload']);
  });

  it('a version 1 file with a bad entry is unreadable, as before', () => {
    const good = JSON.parse(v1) as Record<string, unknown>;
    expect(parseState(good)).toEqual(v2);
    for (const bad of [
      { ...good, base: { 'a.txt': 5 } },
      { ...good, cache: { 'a.txt': { size: 5, mtimeMs: '1', ino: 1, hash: H } } },
      { ...good, cache: { 'a.txt': null } },
      { ...good, cache: [] },
      { ...good, cleanCursor: 7 },
      { ...good, conflicts: [{}] },
      { ...good, failures: { 'big.bin': { code: 'too_large', message: 'x', at: '' } } },
    ]) {
      expect(() => parseState(bad)).toThrow();
    }
    // Unknown keys of a cache entry are dropped, as before.
    expect(parseState({ ...good, cache: { 'a.txt': { size: 5, mtimeMs: 1, ino: 1, hash: H, extra: 1 } } }).cache['a.txt']).toEqual({ size: 5, mtime_ms: 1, ino: 1, hash: H });
  });
});

describe('state dir lock', () => {
  it('one holder at a time; a lock left by a dead process is taken over', async () => {
    const first = new StateLock(dir);
    await first.acquire();
    expect(await readFile(first.file, 'utf8')).toBe(`${process.pid}\n`);
    // Another holder (this process's parent stands in for a live process).
    await first.release();
    await writeFile(join(dir, 'lock'), `${process.ppid}\n`);
    await expect(new StateLock(dir).acquire()).rejects.toBeInstanceOf(StateDirBusyError);
    // A pid that no longer runs: stale, taken over.
    await writeFile(join(dir, 'lock'), '2147483000\n');
    const taker = new StateLock(dir);
    await taker.acquire();
    expect(await readFile(taker.file, 'utf8')).toBe(`${process.pid}\n`);
    await taker.release();
    expect((await readdir(dir)).includes('lock')).toBe(false);
  });
});
