import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { durationMs, loadConfig } from '../../app/sync/config.ts';
import { defaultStateDir, resolveOptions } from '../../app/sync/options.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cfg-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('config loading', () => {
  it('missing file gives defaults', async () => {
    const c = await loadConfig(join(dir, 'none.yaml'));
    expect(durationMs(c.sync.interval)).toBe(30_000);
    expect(durationMs(c.watch.debounce)).toBe(300);
    expect(c.ignore).toEqual([]);
  });

  it('reads the design shape', async () => {
    const p = join(dir, 'c.yaml');
    await writeFile(p, 'server:\n  url: http://127.0.0.1:8100\nsync:\n  local_folder: ~/YouLab\n  interval: 1m\nwatch:\n  debounce: 500ms\nignore:\n  - "*.log"\n');
    const c = await loadConfig(p);
    expect(c.server.url).toBe('http://127.0.0.1:8100');
    expect(durationMs(c.sync.interval)).toBe(60_000);
    expect(durationMs(c.watch.debounce)).toBe(500);
    const o = resolveOptions({}, c);
    expect(o.folder).toBe(join(homedir(), 'YouLab'));
    expect(o.ignore).toEqual(['*.log']);
    // Flags win over the file.
    expect(resolveOptions({ server: 'http://h:1', folder: dir, device: 'd' }, c)).toMatchObject({ server: 'http://h:1', folder: dir, device: 'd' });
  });

  it.each([
    ['bad url', 'server:\n  url: not a url\n', /server\.url/],
    ['bad duration', 'sync:\n  interval: soon\n', /sync\.interval/],
    ['bad ignore pattern', 'ignore:\n  - "../x"\n', /ignore: line 1: '\.\.'/],
    ['key in the file', 'server:\n  api_key: secret\n', /unknown key server\.api_key: the key is never read from a file/],
    ['design key sync.ignore_patterns', 'sync:\n  ignore_patterns:\n    - "*.log"\n', /unknown key sync\.ignore_patterns: move the patterns to the top-level `ignore:` list .*\.youlabignore/],
    ['design key sync.bidirectional', 'sync:\n  bidirectional: true\n', /unknown key sync\.bidirectional: sync always runs both ways; remove the key/],
    ['design key watch.debounce_ms', 'watch:\n  debounce_ms: 500\n', /unknown key watch\.debounce_ms: use watch\.debounce/],
    ['a slip in a key', 'sync:\n  local_foldr: /x\n', /unknown key sync\.local_foldr: use sync\.local_folder/],
    ['a top-level slip', 'start_at_logon: true\n', /unknown key start_at_logon: use start_at_login/],
    ['an unknown key with no near one', 'watch:\n  colour: red\n', /unknown key watch\.colour: the keys here are watch\.enabled, watch\.debounce/],
  ])('invalid config (%s) fails with a clear message naming the file and field', async (_n, text, msg) => {
    const p = join(dir, 'c.yaml');
    await writeFile(p, text);
    await expect(loadConfig(p)).rejects.toThrow(msg);
    await expect(loadConfig(p)).rejects.toThrow(p);
  });

  it('names every unknown key at once, beside the other errors', async () => {
    const p = join(dir, 'c.yaml');
    await writeFile(p, 'sync:\n  bidirectional: true\n  interval: soon\nignore_patterns: []\n');
    const err = await loadConfig(p).then(() => undefined, (e: unknown) => e as Error);
    expect(err?.message).toMatch(/unknown key sync\.bidirectional/);
    expect(err?.message).toMatch(/unknown key ignore_patterns: use the top-level `ignore:` list/);
    expect(err?.message).toMatch(/sync\.interval/);
  });

  it('the default state dir is outside the folder and differs per server+folder', () => {
    const a = defaultStateDir('http://127.0.0.1:8100', '/x/YouLab');
    expect(a.startsWith(join(homedir(), '.youlab-sync', 'state'))).toBe(true);
    expect(defaultStateDir('http://127.0.0.1:8101', '/x/YouLab')).not.toBe(a);
  });

  it('refuses a state dir inside the synced folder', () => {
    expect(() => resolveOptions({ server: 'http://h:1', folder: dir, stateDir: join(dir, '.state') }, { server: {}, sync: { interval: '30s' }, watch: { enabled: true, debounce: '300ms' }, ignore: [], start_at_login: false })).toThrow(/outside the synced folder/);
  });
});
