// docs/SYNC-SPEC.md: type clashes, case-only renames, NFC/NFD names and paths the hub refuses.
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useHubWithDevices, type DevicePair } from '../helpers/client.ts';

const world = useHubWithDevices('n');
const pair = (): Promise<DevicePair> => world.pair();

async function tree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const d of (await readdir(dir, { recursive: true, withFileTypes: true })).filter((x) => x.isFile())) {
    const abs = join(d.parentPath, d.name);
    out[abs.slice(dir.length + 1).normalize('NFC')] = await readFile(abs, 'utf8');
  }
  return out;
}

describe('names and shapes', { timeout: 120_000 }, () => {
  it.each([
    ['the file reaches the hub first', 'file-first'],
    ['the folder reaches the hub first', 'folder-first'],
  ])('file<->folder type clash (%s): both survive, the local side moves to a conflict name', async (_n, order) => {
    const { a, b, ws } = await pair();
    await a.write('keep.txt', 'k');
    await a.sync();
    await b.sync();
    await a.write('data', 'I am a file');
    await b.write('data/x.csv', 'I am in a folder');
    const [first, second] = order === 'file-first' ? [a, b] : [b, a];
    await first.sync();
    const line = await second.sync();
    expect(line).toMatch(/conflicts 1$/);
    await first.sync();
    const hubTree = await tree(ws);
    expect(await tree(a.folder)).toEqual(hubTree);
    expect(await tree(b.folder)).toEqual(hubTree);
    const values = Object.values(hubTree).sort();
    expect(values).toEqual(['I am a file', 'I am in a folder', 'k']);
    if (order === 'file-first') {
      expect(hubTree['data']).toBe('I am a file');
      expect(Object.keys(hubTree).some((p) => /^data \(conflict beta .*\)\/x\.csv$/.test(p))).toBe(true);
    } else {
      expect(hubTree['data/x.csv']).toBe('I am in a folder');
      expect(Object.keys(hubTree).some((p) => /^data \(conflict alpha .*\)$/.test(p))).toBe(true);
    }
  });

  it('an empty local folder gives way to a hub file of the same name', async () => {
    const { a, b, ws } = await pair();
    await b.write('keep.txt', 'k');
    await b.write('slot', 'a file on the hub');
    await b.sync();
    await mkdir(join(a.folder, 'slot'));
    expect(await a.sync()).toBe('uploaded 0, downloaded 2, deleted 0, conflicts 0');
    expect(await readFile(join(a.folder, 'slot'), 'utf8')).toBe('a file on the hub');
    expect(await tree(ws)).toEqual({ 'keep.txt': 'k', slot: 'a file on the hub' });
  });

  it('case-only rename travels as a rename, with no duplicate and no loss', async () => {
    const { a, b, ws } = await pair();
    await a.write('keep.txt', 'k');
    await a.write('notes.txt', 'case');
    await a.sync();
    await b.sync();
    await rename(join(a.folder, 'notes.txt'), join(a.folder, 'Notes.txt'));
    await a.sync();
    await b.sync();
    expect(await tree(ws)).toEqual({ 'keep.txt': 'k', 'Notes.txt': 'case' });
    expect(await tree(b.folder)).toEqual({ 'keep.txt': 'k', 'Notes.txt': 'case' });
  });

  it('NFC/NFD names: a decomposed name on disk is one file with the NFC name on the hub, and edits land in it', async () => {
    const { a, b, ws } = await pair();
    const nfd = 'cafe\u0301.txt';
    const nfc = 'café.txt';
    await a.write(nfd, 'from a mac');
    await a.sync();
    expect(await readdir(ws)).toEqual([nfc]);
    await b.sync();
    expect(await readdir(b.folder)).toEqual([nfc]);
    await b.write(nfc, 'edited');
    await b.sync();
    expect(await a.sync()).toBe('uploaded 0, downloaded 1, deleted 0, conflicts 0');
    // Still one file, still spelled as the OS wrote it.
    expect(await readdir(a.folder)).toEqual([nfd]);
    expect(await readFile(join(a.folder, nfd), 'utf8')).toBe('edited');
  });

  it('NFC and NFD twins in one folder are not merged silently: one becomes a conflict copy', async () => {
    const { a, ws } = await pair();
    await a.write('re\u0301sume\u0301.md', 'decomposed');
    await a.write('résumé.md', 'composed');
    const line = await a.sync();
    expect(line).toMatch(/conflicts 1$/);
    const hubTree = await tree(ws);
    expect(Object.values(hubTree).sort()).toEqual(['composed', 'decomposed']);
    expect(hubTree['résumé.md']).toBe('composed');
  });

  it('400 paths: a local name the hub refuses is reported, never sent, and not retried in a loop', async () => {
    const { a, ws } = await pair();
    await a.write('fine.txt', 'ok');
    await a.write('aux.txt', 'windows reserved');
    await a.write('sub/what?.md', 'reserved character');
    for (let round = 0; round < 2; round++) {
      const r = await a.once();
      expect(r.code).toBe(3);
      expect(r.stdout.trim()).toBe(round === 0 ? 'uploaded 1, downloaded 0, deleted 0, conflicts 0' : 'uploaded 0, downloaded 0, deleted 0, conflicts 0');
      expect(r.stderr).toMatch(/not synced: aux\.txt: Windows-reserved name/);
      expect(r.stderr).toMatch(/not synced: sub\/what\?\.md/);
    }
    expect(await tree(ws)).toEqual({ 'fine.txt': 'ok' });
    // Renaming the file fixes it.
    await rename(join(a.folder, 'aux.txt'), join(a.folder, 'aux-notes.txt'));
    await rm(join(a.folder, 'sub/what?.md'));
    expect(await a.sync()).toBe('uploaded 1, downloaded 0, deleted 0, conflicts 0');
    expect(existsSync(join(ws, 'aux-notes.txt'))).toBe(true);
  });
});
