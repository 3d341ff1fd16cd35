import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashBytes } from '../../shared/node/hash.ts';
import { VersionStore } from '../../server/workspace/versions.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'server-versions-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('version store', () => {
  it('keeps a version that survives the original being replaced, and prunes by age', async () => {
    const vs = new VersionStore(join(dir, 'versions'), join(dir, 'tmp'));
    const f = join(dir, 'f.txt');
    await writeFile(f, 'old');
    const v = await vs.keep({ path: 'a/f.txt', abs: f, hash: hashBytes('old'), size: 3, reason: 'overwrite' });
    // The hub replaces by rename (new inode); the kept version must still hold the old bytes.
    await writeFile(join(dir, 'new.txt'), 'new');
    const { rename } = await import('node:fs/promises');
    await rename(join(dir, 'new.txt'), f);
    const found = await vs.find('a/f.txt', v.id);
    expect(found?.version).toMatchObject({ path: 'a/f.txt', hash: hashBytes('old'), reason: 'overwrite' });
    expect(await readFile(found!.blob, 'utf8')).toBe('old');
    expect(await vs.list('other')).toEqual([]);
    expect(await vs.find('a/f.txt', '../../etc')).toBeUndefined();

    expect(await vs.prune(Date.now() - 60_000)).toBe(0);
    expect(await vs.list('a/f.txt')).toHaveLength(1);
    expect(await vs.prune(Date.now() + 1000)).toBe(1);
    expect(await vs.list('a/f.txt')).toEqual([]);
  });
});
