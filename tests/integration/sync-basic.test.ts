// docs/SYNC-SPEC.md scenarios between two real clients and a real hub (youlab-sync --once processes).
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type TestClient, useHubWithDevices, type DevicePair } from '../helpers/client.ts';

const world = useHubWithDevices('u');
const pair = (): Promise<DevicePair> => world.pair();

async function tree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const names = (await readdir(dir, { recursive: true, withFileTypes: true })).filter((d) => d.isFile());
  for (const d of names) {
    const abs = join(d.parentPath, d.name);
    out[abs.slice(dir.length + 1)] = await readFile(abs, 'utf8');
  }
  return out;
}

async function trashFiles(c: TestClient): Promise<string[]> {
  const dir = join(c.stateDir, 'trash');
  if (!existsSync(dir)) return [];
  const all = await readdir(dir, { recursive: true, withFileTypes: true });
  return all.filter((d) => d.isFile()).map((d) => join(d.parentPath, d.name));
}

describe('docs/SYNC-SPEC.md scenarios (two clients, one hub)', { timeout: 120_000 }, () => {
  it('basic up/down, and a round with no changes transfers nothing and writes no state', async () => {
    const { a, b, ws } = await pair();
    await a.write('hello.txt', 'hello');
    await a.write('docs/deep/notes.md', '# notes');
    expect(await a.sync()).toBe('uploaded 2, downloaded 0, deleted 0, conflicts 0');
    expect(await tree(ws)).toEqual({ 'hello.txt': 'hello', 'docs/deep/notes.md': '# notes' });
    expect(await b.sync()).toBe('uploaded 0, downloaded 2, deleted 0, conflicts 0');
    expect(await tree(b.folder)).toEqual(await tree(a.folder));
    const stateBefore = await stat(join(b.stateDir, 'state.json'));
    expect(await b.sync()).toBe('uploaded 0, downloaded 0, deleted 0, conflicts 0');
    expect((await stat(join(b.stateDir, 'state.json'))).mtimeMs).toBe(stateBefore.mtimeMs);
  });

  it('edit on each side travels to the other', async () => {
    const { a, b, ws } = await pair();
    await a.write('f.txt', 'v1');
    await a.sync();
    await b.sync();
    await b.write('f.txt', 'v2 from beta');
    expect(await b.sync()).toBe('uploaded 1, downloaded 0, deleted 0, conflicts 0');
    expect(await a.sync()).toBe('uploaded 0, downloaded 1, deleted 0, conflicts 0');
    expect(await a.read('f.txt')).toBe('v2 from beta');
    await a.write('f.txt', 'v3 from alpha');
    await a.sync();
    await b.sync();
    expect(await b.read('f.txt')).toBe('v3 from alpha');
    expect(await readFile(join(ws, 'f.txt'), 'utf8')).toBe('v3 from alpha');
    // The overwritten local version went to the client trash first (invariant 1).
    const trashed = await Promise.all((await trashFiles(b)).map((p) => readFile(p, 'utf8')));
    expect(trashed).toContain('v2 from beta');
  });

  it('false conflict: both sides made the same edit, the base is recorded, nothing moves', async () => {
    const { a, b } = await pair();
    await a.write('same.txt', 'old');
    await a.sync();
    await b.sync();
    await a.write('same.txt', 'identical edit');
    await b.write('same.txt', 'identical edit');
    await a.sync();
    expect(await b.sync()).toBe('uploaded 0, downloaded 0, deleted 0, conflicts 0');
    expect((await readdir(b.folder)).sort()).toEqual(['same.txt']);
  });

  it.each([
    ['alpha syncs first', true],
    ['beta syncs first', false],
  ])('true conflict both ways (%s): the hub keeps the path, the loser becomes a conflict copy everywhere', async (_name, alphaFirst) => {
    const { a, b, ws } = await pair();
    await a.write('plan.md', 'base');
    await a.sync();
    await b.sync();
    await a.write('plan.md', 'alpha version');
    await b.write('plan.md', 'beta version');
    const [first, second] = alphaFirst ? [a, b] : [b, a];
    await first.sync();
    expect(await second.sync()).toBe('uploaded 1, downloaded 1, deleted 0, conflicts 1');
    await first.sync();
    const winner = `${first.name} version`;
    const loser = `${second.name} version`;
    const hubTree = await tree(ws);
    expect(hubTree['plan.md']).toBe(winner);
    const copies = Object.keys(hubTree).filter((p) => p !== 'plan.md');
    expect(copies).toHaveLength(1);
    expect(copies[0]).toMatch(new RegExp(`^plan \\(conflict ${second.name} \\d{4}-\\d{2}-\\d{2} \\d{6}\\)\\.md$`));
    expect(hubTree[copies[0]!]).toBe(loser);
    expect(await tree(a.folder)).toEqual(hubTree);
    expect(await tree(b.folder)).toEqual(hubTree);
    // The conflict is listed by `youlab-sync conflicts` on the device that made the copy.
    const { runCli } = await import('../helpers/client.ts');
    const out = await runCli(second.opts(), ['conflicts']);
    expect(out.code).toBe(0);
    expect(out.stdout).toContain('plan.md\t' + copies[0]);
    // The other device received the copy and lists the conflict too.
    expect((await runCli(first.opts(), ['conflicts'])).stdout).toContain('plan.md\t' + copies[0]);
  });

  it('resolve --keep mine puts my version on the path and removes the copy everywhere', async () => {
    const { a, b, ws } = await pair();
    const { runCli } = await import('../helpers/client.ts');
    await a.write('r.txt', 'base');
    await a.sync();
    await b.sync();
    await a.write('r.txt', 'theirs');
    await b.write('r.txt', 'mine');
    await a.sync();
    await b.sync();
    const res = await runCli(b.opts(), ['resolve', 'r.txt', '--keep', 'mine']);
    expect(res.code, res.stderr).toBe(0);
    await a.sync();
    expect(await tree(ws)).toEqual({ 'r.txt': 'mine' });
    expect(await tree(a.folder)).toEqual({ 'r.txt': 'mine' });
    expect((await runCli(b.opts(), ['conflicts'])).stdout).toContain('no conflicts');
  });

  it('resolve --keep theirs drops my copy; --keep both keeps both', async () => {
    const { a, b, ws } = await pair();
    const { runCli } = await import('../helpers/client.ts');
    await a.write('t.txt', 'base');
    await a.write('u.txt', 'base');
    await a.sync();
    await b.sync();
    await a.write('t.txt', 'theirs');
    await a.write('u.txt', 'theirs');
    await b.write('t.txt', 'mine');
    await b.write('u.txt', 'mine');
    await a.sync();
    await b.sync();
    expect((await runCli(b.opts(), ['resolve', 't.txt', '--keep', 'theirs'])).code).toBe(0);
    expect((await runCli(b.opts(), ['resolve', 'u.txt', '--keep', 'both'])).code).toBe(0);
    const t = await tree(ws);
    expect(t['t.txt']).toBe('theirs');
    expect(Object.values(t).filter((v) => v === 'mine')).toHaveLength(1);
    expect(Object.keys(t).find((k) => k.startsWith('u (conflict beta'))).toBeDefined();
    expect(Object.keys(t).find((k) => k.startsWith('t (conflict beta'))).toBeUndefined();
    expect((await runCli(b.opts(), ['conflicts'])).stdout).toContain('no conflicts');
  });

  it.each([
    ['delete here, edit there', 'alpha'],
    ['edit here, delete there', 'beta'],
  ])('delete vs edit both ways (%s): the change beats the delete', async (_name, deleter) => {
    const { a, b, ws } = await pair();
    // A second file keeps the folder from being empty (an emptied folder trips the mass-delete guard).
    await a.write('other.txt', 'o');
    await a.write('x.txt', 'v1');
    await a.sync();
    await b.sync();
    const [del, edit] = deleter === 'alpha' ? [a, b] : [b, a];
    await rm(join(del.folder, 'x.txt'));
    await edit.write('x.txt', 'edited');
    await del.sync();
    await edit.sync();
    await del.sync();
    expect(await readFile(join(ws, 'x.txt'), 'utf8')).toBe('edited');
    expect(await del.read('x.txt')).toBe('edited');
    expect(await edit.read('x.txt')).toBe('edited');
  });

  it('delete on one side removes it everywhere (locally via the trash); delete on both drops the base', async () => {
    const { a, b, ws } = await pair();
    await a.write('gone.txt', 'bye');
    await a.write('both.txt', 'bye2');
    await a.write('keep.txt', 'k');
    await a.sync();
    await b.sync();
    await rm(join(a.folder, 'gone.txt'));
    await rm(join(a.folder, 'both.txt'));
    await rm(join(b.folder, 'both.txt'));
    expect(await a.sync()).toBe('uploaded 0, downloaded 0, deleted 2, conflicts 0');
    expect(await b.sync()).toBe('uploaded 0, downloaded 0, deleted 1, conflicts 0');
    expect(await tree(b.folder)).toEqual({ 'keep.txt': 'k' });
    expect(await tree(ws)).toEqual({ 'keep.txt': 'k' });
    const trashed = await Promise.all((await trashFiles(b)).map((p) => readFile(p, 'utf8')));
    expect(trashed).toEqual(['bye']);
    const state = JSON.parse(await readFile(join(b.stateDir, 'state.json'), 'utf8')) as { base: Record<string, string> };
    expect(Object.keys(state.base)).toEqual(['keep.txt']);
  });

  it('rename (delete + create, same hash) moves the file on the other device', async () => {
    const { a, b, ws } = await pair();
    await a.write('old/name.txt', 'content');
    await a.sync();
    await b.sync();
    await mkdir(join(a.folder, 'new'));
    await rename(join(a.folder, 'old/name.txt'), join(a.folder, 'new/renamed.txt'));
    expect(await a.sync()).toBe('uploaded 1, downloaded 0, deleted 1, conflicts 0');
    await b.sync();
    expect(await tree(ws)).toEqual({ 'new/renamed.txt': 'content' });
    expect(await tree(b.folder)).toEqual({ 'new/renamed.txt': 'content' });
    expect(existsSync(join(b.folder, 'old'))).toBe(false);
  });

  it('directory delete with a new file inside: the new file survives, the rest is deleted', async () => {
    const { a, b, ws } = await pair();
    await a.write('proj/a.txt', 'a');
    await a.write('proj/b.txt', 'b');
    await a.write('top.txt', 't');
    await a.sync();
    await b.sync();
    await rm(join(a.folder, 'proj'), { recursive: true });
    await b.write('proj/new.txt', 'new');
    await a.sync();
    await b.sync();
    await a.sync();
    const expected = { 'proj/new.txt': 'new', 'top.txt': 't' };
    expect(await tree(ws)).toEqual(expected);
    expect(await tree(a.folder)).toEqual(expected);
    expect(await tree(b.folder)).toEqual(expected);
  });

  it('same basename in two folders are two files', async () => {
    const { a, b, ws } = await pair();
    await a.write('one/README.md', 'first');
    await a.write('two/README.md', 'second');
    await a.sync();
    await b.sync();
    await b.write('two/README.md', 'second edited');
    await b.sync();
    await a.sync();
    expect(await tree(ws)).toEqual({ 'one/README.md': 'first', 'two/README.md': 'second edited' });
    expect(await tree(a.folder)).toEqual(await tree(ws));
  });

  it('two clients with different files from the start converge through the hub (merge, nothing deleted)', async () => {
    const { a, b, ws } = await pair();
    for (let i = 0; i < 15; i++) await a.write(`a/${i}.txt`, `a${i}`);
    for (let i = 0; i < 15; i++) await b.write(`b/${i}.txt`, `b${i}`);
    await a.write('shared.txt', 'same');
    await b.write('shared.txt', 'same');
    await a.sync();
    expect(await b.sync()).toBe('uploaded 15, downloaded 15, deleted 0, conflicts 0');
    await a.sync();
    const t = await tree(ws);
    expect(Object.keys(t)).toHaveLength(31);
    expect(await tree(a.folder)).toEqual(t);
    expect(await tree(b.folder)).toEqual(t);
    expect(await a.sync()).toBe('uploaded 0, downloaded 0, deleted 0, conflicts 0');
  });

  it('ignored files stay local and are never deleted or uploaded', async () => {
    const { a, b, ws } = await pair();
    await a.write('keep.txt', 'k');
    await a.write('node_modules/x/index.js', 'x');
    await a.write('scratch.tmp', 't');
    await a.sync();
    expect(await tree(ws)).toEqual({ 'keep.txt': 'k' });
    await b.sync();
    expect(await tree(b.folder)).toEqual({ 'keep.txt': 'k' });
    expect(await a.read('scratch.tmp')).toBe('t');
    await writeFile(join(ws, 'x.swp'), 'agent temp');
    await b.sync();
    expect(existsSync(join(b.folder, 'x.swp'))).toBe(false);
  });
});
