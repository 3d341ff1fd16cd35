// Origins (issue 14) on a real FsWorkspaceStore: the KB sync's writes (source `openwebui`) and
// the agent's recorded changes name themselves in the feed and in the versions they cause; a
// writer's own origin wins; the feed filter keeps the newest matching change per path.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { originFilter } from '../../server/http/origin.ts';
import { FsWorkspaceStore } from '../../server/workspace/fs-store.ts';
import { sha } from '../model/model-helpers.ts';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function store(): Promise<FsWorkspaceStore> {
  const dir = await mkdtemp(join(tmpdir(), 'youlab-origin-'));
  dirs.push(dir);
  return new FsWorkspaceStore({ dataDir: dir, maxFileBytes: 1 << 20, maxWorkspaceBytes: 1 << 30, versionRetentionDays: 30, log: pino({ level: 'silent' }) });
}

describe('origins', () => {
  it('KB writes and agent changes name themselves; a writer-given origin wins; versions say who replaced them', async () => {
    const s = await store();
    const start = (await s.changes('u', undefined, 0)).cursor;
    await s.write('u', 'a.md', Buffer.from('from laptop\n'), { ifNoneMatch: true, source: 'client', origin: 'laptop' });
    await s.write('u', 'a.md', Buffer.from('from the KB\n'), { ifMatch: sha('from laptop\n'), source: 'openwebui' });
    await writeFile(join(s.workspaceDir('u'), 'a.md'), 'from the agent\n');
    await s.recordExternal('u', 'a.md', 'upsert');
    const feed = await s.changes('u', start, 0);
    expect(feed.changes.map((c) => [c.path, c.origin])).toEqual([['a.md', 'agent']]);
    const laptopOnly = await s.changes('u', start, 0, undefined, originFilter('laptop'));
    expect(laptopOnly.changes.map((c) => c.hash)).toEqual([sha('from laptop\n')]);
    const notAgent = await s.changes('u', start, 0, undefined, originFilter('!agent'));
    expect(notAgent.changes.map((c) => c.origin)).toEqual(['openwebui']);
    const versions = await s.versions('u', 'a.md');
    expect(versions.map((v) => [v.hash, v.origin])).toEqual([
      [sha('from the KB\n'), 'agent'],
      [sha('from laptop\n'), 'openwebui'],
    ]);
    await s.close();
  });

  it('originFilter: absent is no filter; names keep, !names leave out; malformed lists are refused', () => {
    expect(originFilter(undefined)).toBeUndefined();
    const f = originFilter('laptop,openwebui')!;
    expect([f({ path: 'x', hash: null, origin: 'laptop' }), f({ path: 'x', hash: null, origin: 'agent' }), f({ path: 'x', hash: null })]).toEqual([true, false, false]);
    const g = originFilter('!agent')!;
    expect([g({ path: 'x', hash: null, origin: 'laptop' }), g({ path: 'x', hash: null, origin: 'agent' })]).toEqual([true, false]);
    for (const bad of ['', 'a,,b', '!', ['a', 'b'], 'x'.repeat(2001)]) expect(() => originFilter(bad), String(bad)).toThrow(/origin/);
  });
});
