// The client trash on a real temp folder (app/sync/trash.ts, trash-list.ts): a kept file's place
// in the trash is always `<batch>/<its path>`, a second one of the same path goes to the next
// batch folder, a file and a folder of one name both fit, and the listing gives each its path
// (an older release's `<name>.<n>` included), newest first.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { Trash } from '../../app/sync/trash.ts';
import { listTrash } from '../../app/sync/trash-list.ts';
import { groupDeleted } from '../../server/workspace/deleted-files.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'youlab-trash-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

it('keeps every copy under its own path, in the next batch when the name is taken, and lists them all', async () => {
  const folder = join(dir, 'folder');
  const trash = new Trash(join(dir, 'trash'));
  await mkdir(join(folder, 'a'), { recursive: true });
  await writeFile(join(folder, 'a', 'x.md'), 'first');
  await trash.moveIn(join(folder, 'a', 'x.md'), 'a/x.md');
  await writeFile(join(folder, 'a', 'x.md'), 'second');
  await trash.keepCopy(join(folder, 'a', 'x.md'), 'a/x.md');
  // A file named like a folder that is kept later: the folder's file goes to another batch.
  await writeFile(join(folder, 'b'), 'file b');
  await trash.moveIn(join(folder, 'b'), 'b');
  await mkdir(join(folder, 'b'));
  await writeFile(join(folder, 'b', 'inner.md'), 'inside b');
  await trash.moveIn(join(folder, 'b', 'inner.md'), 'b/inner.md');

  const items = await listTrash(trash.dir);
  expect(items.map((i) => i.path).sort()).toEqual(['a/x.md', 'a/x.md', 'b', 'b/inner.md']);
  for (const i of items) expect(i.id.endsWith(`/${i.path}`)).toBe(true);
  const contents = await Promise.all(items.map((i) => readFile(join(trash.dir, ...i.id.split('/')), 'utf8')));
  expect(contents.sort()).toEqual(['file b', 'first', 'inside b', 'second']);
  const times = items.map((i) => i.keptAt);
  expect(times).toEqual([...times].sort().reverse());
});

it('reads an older trash: `<name>.<n>` beside `<name>` is another copy of <name>; a name that only looks like it stays itself', async () => {
  const batch = join(dir, 'trash', '2026-01-01T00-00-00-000Z-abcdef');
  await mkdir(batch, { recursive: true });
  await writeFile(join(batch, 'notes.md'), '1');
  await writeFile(join(batch, 'notes.md.1'), '2');
  await writeFile(join(batch, 'release.2'), '3');
  const items = await listTrash(join(dir, 'trash'));
  expect(items.map((i) => `${i.id.split('/').slice(1).join('/')}=>${i.path}`).sort()).toEqual(['notes.md.1=>notes.md', 'notes.md=>notes.md', 'release.2=>release.2']);
  expect(await listTrash(join(dir, 'no-trash-yet'))).toEqual([]);
});

it('hub: deleted paths are grouped with their versions, live ones left out, ordered by their newest version, bounded', async () => {
  const v = (path: string, id: string) => ({ id, path, hash: 'sha256:' + '0'.repeat(64), size: 1, kept_at: '', reason: 'delete' as const });
  const all = [v('b', '3'), v('a', '2'), v('live', '2'), v('b', '1'), v('c', '0')];
  const live = async (p: string) => p === 'live';
  expect(await groupDeleted(all, live)).toEqual({ files: [{ path: 'b', versions: [all[0], all[3]] }, { path: 'a', versions: [all[1]] }, { path: 'c', versions: [all[4]] }], truncated: false });
  expect(await groupDeleted(all, live, 2)).toMatchObject({ files: [{ path: 'b' }, { path: 'a' }], truncated: true });
});

it('client: a version\'s origin is the hub\'s label; an unknown shape shows none and never fails the listing', async () => {
  const { HubVersionSchema } = await import('../../app/sync/hub-client.ts');
  const base = { id: '1764238500000-0a1b2c3d', hash: 'sha256:' + '1'.repeat(64), size: 1, kept_at: '2026-11-27T10:15:00.000Z', reason: 'delete' };
  expect(HubVersionSchema.parse({ ...base, origin: 'laptop' }).origin).toBe('laptop');
  expect(HubVersionSchema.parse({ ...base, origin: 'agent' }).origin).toBe('agent');
  expect(HubVersionSchema.parse({ ...base, origin: { device: 'desk' } }).origin).toBeUndefined();
  expect(HubVersionSchema.parse({ ...base, origin: 42 }).origin).toBeUndefined();
  expect(HubVersionSchema.parse(base).origin).toBeUndefined();
});
