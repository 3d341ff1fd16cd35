import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { digestsEqual, hashKey, KeyStore, keysFilePath } from '../../server/auth/keys.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'server-keys-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('key store', () => {
  it('creates keys that verify to their user, and stores only their sha256', async () => {
    const store = KeyStore.forDataDir(dir);
    const { key, record } = await store.create({ userId: 'alice', label: 'laptop' });
    expect(key).toMatch(/^ylk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(record).toMatchObject({ user_id: 'alice', service: false, label: 'laptop', revoked: null });
    expect(store.verify(key)).toEqual({ keyId: record.id, userId: 'alice', service: false, label: 'laptop' });
    const onDisk = await readFile(keysFilePath(dir), 'utf8');
    expect(onDisk).not.toContain(key);
    expect(onDisk).toContain(hashKey(key));
  });

  it('refuses unknown, altered, malformed and missing keys', async () => {
    const store = KeyStore.forDataDir(dir);
    const { key } = await store.create({ userId: 'alice' });
    expect(store.verify(undefined)).toBeUndefined();
    expect(store.verify('')).toBeUndefined();
    expect(store.verify(key + 'x')).toBeUndefined();
    expect(store.verify(key.slice(0, -1) + (key.endsWith('A') ? 'B' : 'A'))).toBeUndefined();
    expect(store.verify(key.replace(/^ylk_[0-9a-f]{16}/, 'ylk_0123456789abcdef'))).toBeUndefined();
    expect(store.verify('Bearer nonsense')).toBeUndefined();
  });

  it('service keys act for no particular user', async () => {
    const store = KeyStore.forDataDir(dir);
    const { key } = await store.create({ service: true, label: 'ralph' });
    expect(store.verify(key)).toMatchObject({ userId: null, service: true });
  });

  it('refuses to create a user key with an invalid user id', async () => {
    const store = KeyStore.forDataDir(dir);
    await expect(store.create({ userId: '../x' })).rejects.toThrow(/user/);
    await expect(store.create({ userId: '.hidden' })).rejects.toThrow(/user/);
    await expect(store.create({})).rejects.toThrow(/user/);
  });

  it('revoke is seen by another store instance on the same file (the running hub)', async () => {
    const cli = KeyStore.forDataDir(dir);
    const hub = KeyStore.forDataDir(dir);
    const { key, record } = await cli.create({ userId: 'bob' });
    // The hub re-stats the file at most every 250 ms.
    await new Promise((r) => setTimeout(r, 300));
    expect(hub.verify(key)?.userId).toBe('bob');
    expect(await cli.revoke(record.id)).toBe(true);
    expect(await cli.revoke('ffffffffffffffff')).toBe(false);
    await new Promise((r) => setTimeout(r, 300));
    expect(hub.verify(key)).toBeUndefined();
    expect(cli.list().find((r) => r.id === record.id)?.revoked).toEqual(expect.any(String));
  });

  it('a corrupt keys file refuses every key', async () => {
    const store = KeyStore.forDataDir(dir);
    const { key } = await store.create({ userId: 'carol' });
    await writeFile(keysFilePath(dir), '{not json');
    await new Promise((r) => setTimeout(r, 300));
    expect(store.verify(key)).toBeUndefined();
  });

  it('digest comparison is exact and length-safe', () => {
    const a = hashKey('a');
    expect(digestsEqual(a, a)).toBe(true);
    expect(digestsEqual(a, hashKey('b'))).toBe(false);
    expect(digestsEqual(a, a.slice(0, 62))).toBe(false);
    expect(digestsEqual('', '')).toBe(false);
  });
});
