// `youlab-sync --key-file` (issue 15, item 4): a real client against a real hub with the key in a
// file only its owner may read; a group/other-readable file is refused before anything syncs.
import { existsSync } from 'node:fs';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHub, type HubHandle } from '../helpers/hub.ts';
import { makeClient, makeRoot, runCli } from '../helpers/client.ts';

describe('youlab-sync --key-file', () => {
  let hub: HubHandle;
  let root: { dir: string; cleanup(): Promise<void> };
  beforeAll(async () => {
    hub = await startHub();
    root = await makeRoot();
  });
  afterAll(async () => {
    await hub?.stop();
    await root?.cleanup();
  });

  it('syncs with the key from a 0600 file and refuses a 0644 one', async () => {
    const key = await hub.createKey('kf');
    const c = await makeClient(root.dir, 'kf', hub.url, key);
    const file = join(root.dir, 'kf.key');
    await writeFile(file, `${key}\n`);
    await chmod(file, 0o644);
    await c.write('a.txt', 'a');
    // No YOULAB_API_KEY and no keychain: the file is the only source.
    const env = { YOULAB_API_KEY: undefined, DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/youlab-no-bus' };
    const refused = await runCli(c.opts({ env }), ['--once', '--key-file', file]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`--key-file ${file}: group or others can access it (mode 644)`);
    expect(refused.stderr).not.toContain(key);
    expect(existsSync(join(hub.dataDir, 'kf', 'workspace', 'a.txt'))).toBe(false);

    await chmod(file, 0o600);
    const ok = await runCli(c.opts({ env }), ['--once', '--key-file', file]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout.trim()).toBe('uploaded 1, downloaded 0, deleted 0, conflicts 0');
    expect(await readFile(join(hub.dataDir, 'kf', 'workspace', 'a.txt'), 'utf8')).toBe('a');
  });
});
