// docs/SYNC-SPEC.md "Ignore rules": the workspace's `.youlabignore` applies to every client, next to
// the client's own patterns, between a real hub and real `youlab-sync --once` processes. The file
// syncs like any other; a client reads its local copy, a change takes effect at the next round,
// and a file that becomes ignored is never deleted anywhere for that reason.
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hashBytes } from '../../shared/node/hash.ts';
import { encodePathForUrl } from '../../shared/paths.ts';
import { useHubWithDevices, type DevicePair } from '../helpers/client.ts';
import { auth } from '../helpers/hub.ts';

const world = useHubWithDevices('yi');

/** Write a file on the hub through its API, as another device would. */
async function hubPut(p: DevicePair, key: string, path: string, body: string): Promise<void> {
  const url = `${world.hub.url}/users/${p.user}/workspace/files/${encodePathForUrl(path)}`;
  const current = existsSync(join(p.ws, path)) ? hashBytes(await readFile(join(p.ws, path))) : undefined;
  const r = await fetch(url, {
    method: 'PUT',
    headers: { ...auth(key), ...(current ? { 'if-match': `"${current}"` } : { 'if-none-match': '*' }) },
    body,
  });
  expect(r.status).toBe(200);
}

const exists = (dir: string, rel: string): boolean => existsSync(join(dir, rel));

describe('.youlabignore on the client', { timeout: 120_000 }, () => {
  it("applies to a client on its first sync and next to the client's own patterns; changes apply at the next round; nothing is deleted for becoming ignored", async () => {
    const p = await world.pair();
    const key = await world.hub.createKey(p.user);
    await hubPut(p, key, '.youlabignore', '# build output and logs\n*.log\nprivate/\n');
    await hubPut(p, key, 'notes.md', 'notes\n');
    await hubPut(p, key, 'debug.log', 'a log the agent wrote\n');
    await hubPut(p, key, 'private/secret.md', 'not for this device\n');
    await hubPut(p, key, 'idea.draft', 'a draft\n');

    // The client's own pattern (config.yaml `ignore`) applies too.
    const config = join(p.a.stateDir, '..', 'config.yaml');
    await writeFile(config, 'ignore:\n  - "*.draft"\n');
    const withConfig = { env: { YOULAB_SYNC_CONFIG: config } };

    // First sync of an empty folder: the rule file comes down first, and the rest by its rules.
    await p.a.sync(withConfig);
    expect(await p.a.read('.youlabignore')).toContain('*.log');
    expect(await p.a.read('notes.md')).toBe('notes\n');
    expect(exists(p.a.folder, 'debug.log')).toBe(false);
    expect(exists(p.a.folder, 'private/secret.md')).toBe(false);
    expect(exists(p.a.folder, 'idea.draft')).toBe(false);

    // Local files the rules ignore never go up; others do.
    await p.a.write('local.log', 'local log\n');
    await p.a.write('private/mine.md', 'mine\n');
    await p.a.write('todo.md', 'todo\n');
    await p.a.sync(withConfig);
    expect(exists(p.ws, 'todo.md')).toBe(true);
    expect(exists(p.ws, 'local.log')).toBe(false);
    expect(exists(p.ws, 'private/mine.md')).toBe(false);

    // A rule added on another device reaches this one as a file; from the next round on, what it
    // ignores stays where it is: neither deleted here nor on the hub, even when changed or removed here.
    await p.a.write('old.md', 'old\n');
    await p.a.sync(withConfig);
    await hubPut(p, key, '.youlabignore', '*.log\nprivate/\ntodo.md\nold.md\n');
    await p.a.sync(withConfig);
    expect(await p.a.read('.youlabignore')).toContain('todo.md');
    await p.a.write('todo.md', 'todo, edited while ignored\n');
    await rm(join(p.a.folder, 'old.md'));
    await p.a.sync(withConfig);
    expect(await readFile(join(p.ws, 'todo.md'), 'utf8')).toBe('todo\n');
    expect(await readFile(join(p.ws, 'old.md'), 'utf8')).toBe('old\n');

    // A rule taken away: the next round syncs what it hid, both ways, from the base it kept (the
    // edit made meanwhile goes up, the delete made meanwhile is carried out, the hub keeping the
    // version); the client's own pattern still holds.
    await p.a.write('.youlabignore', 'private/\n');
    await p.a.sync(withConfig);
    expect(await readFile(join(p.ws, '.youlabignore'), 'utf8')).toBe('private/\n');
    await p.a.sync(withConfig);
    expect(await p.a.read('debug.log')).toBe('a log the agent wrote\n');
    expect(await readFile(join(p.ws, 'local.log'), 'utf8')).toBe('local log\n');
    expect(await readFile(join(p.ws, 'todo.md'), 'utf8')).toBe('todo, edited while ignored\n');
    expect(exists(p.ws, 'old.md')).toBe(false);
    expect(exists(p.a.folder, 'private/secret.md')).toBe(false);
    expect(exists(p.ws, 'private/mine.md')).toBe(false);
    expect(exists(p.a.folder, 'idea.draft')).toBe(false);
    // A second device without the client pattern gets the draft: that rule was alpha's own.
    await p.b.sync();
    expect(await p.b.read('idea.draft')).toBe('a draft\n');
    expect(exists(p.b.folder, 'private/secret.md')).toBe(false);
  });
});
