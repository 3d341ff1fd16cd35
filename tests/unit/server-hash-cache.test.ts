import { mkdtemp, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashBytes } from '../../shared/node/hash.ts';
import { HashCache } from '../../server/workspace/hash-cache.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'server-hash-cache-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('hash cache keyed by size/mtime/inode', () => {
  it('does not re-hash a file whose size/mtime/inode did not change, and does when they did', async () => {
    const f = join(dir, 'f.txt');
    await writeFile(f, 'aaaa');
    const fixed = new Date('2025-01-01T00:00:00Z');
    await utimes(f, fixed, fixed);
    const cache = new HashCache(join(dir, 'cache.json'), dir);
    expect((await cache.hashOf('f.txt', f))?.hash).toBe(hashBytes('aaaa'));
    // Same size, same inode, mtime put back: the cache answers (proof that nothing was re-read).
    await writeFile(f, 'bbbb');
    await utimes(f, fixed, fixed);
    expect((await cache.hashOf('f.txt', f))?.hash).toBe(hashBytes('aaaa'));
    // A changed mtime invalidates.
    await utimes(f, fixed, new Date(fixed.getTime() + 5000));
    expect((await cache.hashOf('f.txt', f))?.hash).toBe(hashBytes('bbbb'));
  });

  it('persists across instances', async () => {
    const f = join(dir, 'g.txt');
    await writeFile(f, 'gg');
    const a = new HashCache(join(dir, 'cache.json'), dir);
    await a.load();
    await a.hashOf('g.txt', f);
    await a.save();
    const b = new HashCache(join(dir, 'cache.json'), dir);
    await b.load();
    expect(b.get('g.txt', await stat(f))).toBe(hashBytes('gg'));
  });

  it('answers undefined for a missing file', async () => {
    const cache = new HashCache(join(dir, 'cache.json'), dir);
    expect(await cache.hashOf('nope', join(dir, 'nope'))).toBeUndefined();
  });
});
