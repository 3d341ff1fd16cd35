import { appendFile, mkdir, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashBytes, hashFile } from '../../shared/node/hash.ts';
import { createIgnore } from '../../shared/ignore-rules.ts';
import { scanLocal } from '../../app/sync/scanner.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'scan-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function countingHash() {
  const calls: string[] = [];
  return {
    calls,
    hash: async (p: string) => {
      calls.push(p);
      return hashFile(p);
    },
  };
}

describe('local scanner', () => {
  it('a no-change scan hashes nothing (hash cache keyed by size/mtime/inode)', async () => {
    await mkdir(join(dir, 'sub'));
    await writeFile(join(dir, 'a.txt'), 'A');
    await writeFile(join(dir, 'sub/b.txt'), 'B');
    const ignore = createIgnore();
    const first = countingHash();
    const s1 = await scanLocal(dir, { ignore, cache: {}, hash: first.hash });
    expect(first.calls).toHaveLength(2);
    expect(s1.files.get('sub/b.txt')?.hash).toBe(hashBytes('B'));

    const second = countingHash();
    const s2 = await scanLocal(dir, { ignore, cache: s1.cache, hash: second.hash });
    expect(second.calls).toHaveLength(0);
    expect(s2.hashed).toBe(0);
    expect([...s2.files.keys()].sort()).toEqual(['a.txt', 'sub/b.txt']);

    // A touched file (new mtime) is hashed again, and only that one.
    await utimes(join(dir, 'a.txt'), new Date(), new Date(Date.now() + 5000));
    const third = countingHash();
    await scanLocal(dir, { ignore, cache: s2.cache, hash: third.hash });
    expect(third.calls).toEqual([join(dir, 'a.txt')]);
  });

  it('skips a file that changes while it is hashed, and takes it on the next scan (torn read)', async () => {
    await writeFile(join(dir, 'growing.log'), 'start');
    await writeFile(join(dir, 'steady.txt'), 'ok');
    const ignore = createIgnore();
    let first = true;
    const s1 = await scanLocal(dir, {
      ignore,
      cache: {},
      hash: async (p) => {
        const h = await hashFile(p);
        if (p.endsWith('growing.log') && first) {
          first = false;
          await appendFile(p, ' more');
        }
        return h;
      },
    });
    expect(s1.unstable).toEqual(['growing.log']);
    expect(s1.files.has('growing.log')).toBe(false);
    expect(s1.cache['growing.log']).toBeUndefined();
    expect(s1.files.has('steady.txt')).toBe(true);

    const s2 = await scanLocal(dir, { ignore, cache: s1.cache });
    expect(s2.unstable).toEqual([]);
    expect(s2.files.get('growing.log')?.hash).toBe(hashBytes('start more'));
  });

  it('skips symlinks, ignored paths and its own temp files; reports temps', async () => {
    await writeFile(join(dir, 'real.txt'), 'r');
    await symlink(join(dir, 'real.txt'), join(dir, 'link.txt'));
    await symlink('/etc', join(dir, 'etc-link'));
    await mkdir(join(dir, 'node_modules/x'), { recursive: true });
    await writeFile(join(dir, 'node_modules/x/i.js'), 'x');
    await writeFile(join(dir, 'a.swp'), 'x');
    await writeFile(join(dir, 'debug.log'), 'x');
    await writeFile(join(dir, '.real.txt.0a1b2c.youlab-tmp'), 'partial');
    const s = await scanLocal(dir, { ignore: createIgnore(['*.log']), cache: {} });
    expect([...s.files.keys()]).toEqual(['real.txt']);
    expect(s.temps).toEqual(['.real.txt.0a1b2c.youlab-tmp']);
  });

  it('keys are NFC; the on-disk spelling is kept; a second spelling is a twin', async () => {
    const nfd = 'cafe\u0301.txt';
    await writeFile(join(dir, nfd), 'nfd');
    const s1 = await scanLocal(dir, { ignore: createIgnore(), cache: {} });
    expect(s1.files.get('café.txt')?.rel).toBe(nfd);
    await writeFile(join(dir, 'café.txt'), 'nfc');
    const s2 = await scanLocal(dir, { ignore: createIgnore(), cache: {} });
    expect(s2.files.get('café.txt')?.rel).toBe('café.txt');
    expect(s2.twins.map((t) => t.rel)).toEqual([nfd]);
  });

  it('tells a missing root from an empty one', async () => {
    expect((await scanLocal(join(dir, 'nope'), { ignore: createIgnore(), cache: {} })).root).toBe('missing');
    await mkdir(join(dir, 'empty/sub'), { recursive: true });
    expect((await scanLocal(join(dir, 'empty'), { ignore: createIgnore(), cache: {} })).root).toBe('empty');
    await writeFile(join(dir, 'empty/sub/f'), 'f');
    expect((await scanLocal(join(dir, 'empty'), { ignore: createIgnore(), cache: {} })).root).toBe('ok');
  });
});
