// Where the client's key comes from (issue 15, item 4): --key-file (owner-only), YOULAB_API_KEY,
// the OS keychain; a keychain that cannot load says why; nothing writes a key.
import { chmod, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readKeyFile, resolveApiKey } from '../../app/sync/key-source.ts';
import { createMemoryKeychain, createOsKeychain, KeychainUnavailableError, loadKeytar } from '../../app/sync/keychain.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'keysrc-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function keyFile(content: string, mode: number): Promise<string> {
  const p = join(dir, 'key');
  await writeFile(p, content);
  await chmod(p, mode);
  return p;
}

describe('--key-file', () => {
  it('reads the first line of an owner-only file (0600 and 0400)', async () => {
    expect(await readKeyFile(await keyFile('yl_secret\nignored\n', 0o600))).toBe('yl_secret');
    expect(await readKeyFile(await keyFile('  yl_two  \r\n', 0o400))).toBe('yl_two');
  });

  it.each([0o644, 0o640, 0o604, 0o660, 0o602])('refuses mode %s (group or others may access it) and says how to fix it', async (mode) => {
    const p = await keyFile('yl_secret\n', mode);
    const err = await readKeyFile(p).then(() => undefined, (e: unknown) => e as Error);
    expect(err?.message).toContain(`--key-file ${p}: group or others can access it (mode ${mode.toString(8)})`);
    expect(err?.message).toContain(`chmod 600 '${p}'`);
    expect(err?.message).not.toContain('yl_secret');
  });

  it('does not check mode bits on Windows (no such bits there)', async () => {
    expect(await readKeyFile(await keyFile('yl_win\n', 0o644), 'win32')).toBe('yl_win');
  });

  it('a missing, empty or non-file path is a clear error', async () => {
    await expect(readKeyFile(join(dir, 'nope'))).rejects.toThrow(/--key-file .*nope: no such file/);
    await expect(readKeyFile(await keyFile('\n', 0o600))).rejects.toThrow(/the file is empty/);
    await expect(readKeyFile(dir)).rejects.toThrow(/not a regular file/);
  });
});

describe('resolveApiKey', () => {
  const server = 'http://127.0.0.1:8100';

  it('a key file wins over YOULAB_API_KEY, which wins over the keychain; each says where the key is kept', async () => {
    const keychain = createMemoryKeychain({ [server]: 'from-keychain' });
    const file = await keyFile('from-file\n', 0o600);
    expect(await resolveApiKey({ server, keyFile: file, env: { YOULAB_API_KEY: 'from-env' }, keychain })).toEqual({
      key: 'from-file',
      where: `the key file ${file} (read only; never written)`,
    });
    expect(await resolveApiKey({ server, env: { YOULAB_API_KEY: 'from-env' }, keychain })).toMatchObject({ key: 'from-env', where: expect.stringMatching(/^memory only/) });
    expect(await resolveApiKey({ server, env: {}, keychain })).toEqual({ key: 'from-keychain', where: 'the OS keychain' });
  });

  it('no key anywhere names all three ways', async () => {
    await expect(resolveApiKey({ server, env: {}, keychain: createMemoryKeychain() })).rejects.toThrow(/youlab-sync login .*YOULAB_API_KEY.*--key-file/);
  });

  it('a keychain that cannot load fails with the reason and the alternatives, and nothing is written', async () => {
    const keychain = createOsKeychain('youlab-sync-test', () => loadKeytar('keytar-is-not-installed-here'));
    const err = await resolveApiKey({ server, env: {}, keychain }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(KeychainUnavailableError);
    const k = err as KeychainUnavailableError;
    expect(k.reason).toMatch(/the keychain module \(keytar, optional\) is not installed/);
    expect(k.message).toMatch(/YOULAB_API_KEY/);
    expect(k.message).toMatch(/--key-file <file>/);
    await expect(keychain.set(server, 'secret')).rejects.toBeInstanceOf(KeychainUnavailableError);
    expect(await readdir(dir)).toEqual([]);
  });

  it('a Secret Service that does not answer is told apart from a missing module', () => {
    expect(new KeychainUnavailableError(new Error('Cannot autolaunch D-Bus without X11 $DISPLAY')).reason).toMatch(/no Secret Service answered/);
  });
});
