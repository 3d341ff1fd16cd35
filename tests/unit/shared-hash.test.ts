import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EMPTY_HASH, etagOf, isHash, parseEtag } from '../../shared/hash.ts';
import { hashBytes, hashFile } from '../../shared/node/hash.ts';

const h = 'sha256:' + 'a'.repeat(64);

describe('ETag parsing', () => {
  it.each([
    ['quoted', `"${h}"`, h],
    ['weak', `W/"${h}"`, h],
    ['bare', h, h],
    ['spaces', `  "${h}" `, h],
    ['empty', '', undefined],
    ['empty quotes', '""', undefined],
    ['missing', undefined, undefined],
  ])('%s', (_name, input, expected) => {
    expect(parseEtag(input)).toBe(expected);
  });
  it('round-trips with etagOf', () => {
    expect(parseEtag(etagOf(h))).toBe(h);
  });
});

describe('hashes', () => {
  it('hash bytes and files alike', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hash-'));
    try {
      await writeFile(join(dir, 'f'), 'hello');
      expect(await hashFile(join(dir, 'f'))).toBe(hashBytes('hello'));
      expect(hashBytes('hello')).toBe('sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
  it('recognises well-formed hashes only', () => {
    expect(isHash(EMPTY_HASH)).toBe(true);
    expect(isHash('sha256:ABC')).toBe(false);
    expect(isHash('md5:' + 'a'.repeat(32))).toBe(false);
  });
});

describe('hashFile with a size hint (one read for small files)', () => {
  it('equals the hash of the bytes, small (one read) and large (streamed), empty too', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hash-'));
    try {
      const small = Buffer.alloc(4096, 7);
      const large = Buffer.alloc(3 * 1024 * 1024 + 5, 9);
      await writeFile(join(dir, 's'), small);
      await writeFile(join(dir, 'l'), large);
      await writeFile(join(dir, 'e'), '');
      expect(await hashFile(join(dir, 's'), small.length)).toBe(hashBytes(small));
      expect(await hashFile(join(dir, 'l'), large.length)).toBe(hashBytes(large));
      expect(await hashFile(join(dir, 'e'), 0)).toBe(EMPTY_HASH);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('never reads past the hint: a file that grew since its stat is hashed as a prefix (the caller re-stats and discards it)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hash-'));
    try {
      await writeFile(join(dir, 'g'), 'hello world');
      expect(await hashFile(join(dir, 'g'), 5)).toBe(hashBytes('hello'));
      // A file that shrank: what is there is hashed.
      expect(await hashFile(join(dir, 'g'), 100)).toBe(hashBytes('hello world'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
