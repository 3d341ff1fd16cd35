import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { emptyState, StateStore } from '../../app/sync/state.ts';
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
