// "Last used" of keys (server/auth/key-usage.ts): recorded per use, written on flush, merged with
// what another instance wrote (latest wins), read back by a new process.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KeyUsage } from '../../server/auth/key-usage.ts';

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('KeyUsage', () => {
  it('records a use to the minute, keeps it across a restart, and merges with another writer by the latest time', async () => {
    dir = await mkdtemp(join(tmpdir(), 'key-usage-'));
    const file = join(dir, 'keys-used.json');
    const a = new KeyUsage(file);
    expect(a.lastUsed('k1')).toBeNull();
    a.touch('k1');
    const at = a.lastUsed('k1')!;
    expect(at).toMatch(/:00\.000Z$/);
    // Another instance wrote k2 and an older k1 meanwhile.
    await writeFile(file, JSON.stringify({ version: 1, last_used: { k1: '2000-01-01T00:00:00.000Z', k2: '2001-01-01T00:00:00.000Z' } }));
    await a.flush();
    const saved = JSON.parse(await readFile(file, 'utf8')) as { last_used: Record<string, string> };
    expect(saved.last_used).toEqual({ k1: at, k2: '2001-01-01T00:00:00.000Z' });
    const b = new KeyUsage(file);
    expect(b.lastUsed('k1')).toBe(at);
    expect(b.lastUsed('k2')).toBe('2001-01-01T00:00:00.000Z');
  });

  it('a corrupt file is read as nothing and replaced on the next flush', async () => {
    dir = await mkdtemp(join(tmpdir(), 'key-usage-'));
    const file = join(dir, 'keys-used.json');
    await writeFile(file, '{not json');
    const u = new KeyUsage(file);
    expect(u.lastUsed('k1')).toBeNull();
    u.touch('k1');
    await u.flush();
    expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ version: 1, last_used: { k1: expect.any(String) } });
  });
});
