// Issue 14: nothing the hub announced is lost to the agent. Ralph's agent writes straight into
// the workspace folder, past the hub; the hub keeps a copy of each content it announced, so when
// the agent overwrites (in place), renames or deletes a file, the earlier content is a version,
// listed and restorable like any other (origin `agent`). Real hub process, real CLI clients.
import { open, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodePathForUrl } from '../../shared/paths.ts';
import { makeClient, makeRoot, runCli, type TestClient } from '../helpers/client.ts';
import { auth, startHub, type HubHandle } from '../helpers/hub.ts';

let hub: HubHandle;
let root: { dir: string; cleanup(): Promise<void> };
let key: string;
let a: TestClient;
let b: TestClient;
let ws: string;

interface V {
  id: string;
  hash: string;
  size: number;
  reason: string;
  origin?: string;
}

beforeAll(async () => {
  hub = await startHub();
  key = await hub.createKey('alice', { label: 'alice laptop key' });
  root = await makeRoot('youlab-agent-versions-');
  a = await makeClient(root.dir, 'laptop', hub.url, key);
  b = await makeClient(root.dir, 'desktop', hub.url, key);
  ws = join(hub.dataDir, 'alice', 'workspace');
}, 60_000);

afterAll(async () => {
  await hub?.stop();
  await root?.cleanup();
});

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

async function versions(path: string): Promise<V[]> {
  const r = await fetch(`${hub.url}/users/alice/workspace/versions/${encodePathForUrl(path)}`, { headers: auth(key) });
  expect(r.status).toBe(200);
  return ((await r.json()) as { versions: V[] }).versions;
}

/** Overwrites the file in place (same inode, truncated), as an editor or a script of the agent may. */
async function overwriteInPlace(abs: string, content: string): Promise<void> {
  const fh = await open(abs, 'r+');
  try {
    await fh.truncate(0);
    await fh.write(content, 0);
  } finally {
    await fh.close();
  }
}

describe('the agent overwrites, renames and deletes announced files: nothing is lost', { timeout: 120_000 }, () => {
  it("a laptop's file reaches the hub, the agent overwrites it, then deletes it: both earlier contents are listed and restorable", async () => {
    await a.write('notes/plan.md', 'the laptop wrote this\n');
    await a.sync();
    expect(await readFile(join(ws, 'notes/plan.md'), 'utf8')).toBe('the laptop wrote this\n');
    await b.sync();

    await overwriteInPlace(join(ws, 'notes/plan.md'), 'the agent rewrote it\n');
    const afterOverwrite = await until('the overwrite kept as a version', async () => {
      const v = await versions('notes/plan.md');
      return v.length === 1 ? v : undefined;
    });
    expect(afterOverwrite[0]).toMatchObject({ reason: 'overwrite', origin: 'agent', size: 'the laptop wrote this\n'.length });

    await unlink(join(ws, 'notes/plan.md'));
    const both = await until('the delete kept as a version', async () => {
      const v = await versions('notes/plan.md');
      return v.length === 2 ? v : undefined;
    });
    // Newest first: the agent's own content (deleted), then the laptop's (overwritten).
    expect(both.map((v) => [v.reason, v.origin, v.size])).toEqual([
      ['delete', 'agent', 'the agent rewrote it\n'.length],
      ['overwrite', 'agent', 'the laptop wrote this\n'.length],
    ]);

    // The user deletes it everywhere too (the scenario): the hub still holds both.
    await a.sync();
    await b.sync();
    await expect(a.read('notes/plan.md')).rejects.toThrow();
    await expect(b.read('notes/plan.md')).rejects.toThrow();

    // The CLI lists both, with who replaced them, and restores each.
    const list = await runCli(a.opts(), ['versions', 'notes/plan.md']);
    expect(list.code, list.stderr).toBe(0);
    const rows = list.stdout.trim().split('\n').map((l) => l.split('\t'));
    expect(rows.map((r) => [r[3], r[5]])).toEqual([
      ['delete', 'agent'],
      ['overwrite', 'agent'],
    ]);
    const laptopVersion = rows[1]![0]!;
    const agentVersion = rows[0]![0]!;
    const r1 = await runCli(a.opts(), ['restore', 'notes/plan.md', '--version', laptopVersion]);
    expect(r1.code, r1.stderr).toBe(0);
    expect(await a.read('notes/plan.md')).toBe('the laptop wrote this\n');
    const r2 = await runCli(a.opts(), ['restore', 'notes/plan.md', '--version', agentVersion]);
    expect(r2.code, r2.stderr).toBe(0);
    expect(await a.read('notes/plan.md')).toBe('the agent rewrote it\n');
    await b.sync();
    expect(await b.read('notes/plan.md')).toBe('the agent rewrote it\n');
    // The restores replaced contents through the hub: those are versions in turn, by the laptop.
    const after = await versions('notes/plan.md');
    expect(after.filter((v) => v.origin === 'laptop').map((v) => v.reason)).toEqual(['overwrite']);
  });

  it('an agent rename keeps the content at its old path (reason delete), and the new path is announced', async () => {
    await a.write('draft.txt', 'moved by the agent\n');
    await a.sync();
    await rename(join(ws, 'draft.txt'), join(ws, 'final.txt'));
    const v = await until('the rename kept as a version of the old path', async () => {
      const l = await versions('draft.txt');
      return l.length === 1 ? l : undefined;
    });
    expect(v[0]).toMatchObject({ reason: 'delete', origin: 'agent' });
    await a.sync();
    expect(await a.read('final.txt')).toBe('moved by the agent\n');
    await expect(a.read('draft.txt')).rejects.toThrow();
  });

  it('content the agent wrote and the hub announced is kept when the agent overwrites it again', async () => {
    await writeFile(join(ws, 'report.md'), 'agent draft one\n');
    await until('the agent write announced', async () => ((await a.sync()) && (await a.read('report.md').catch(() => undefined)) === 'agent draft one\n' ? true : undefined));
    await writeFile(join(ws, 'report.md'), 'agent draft two\n');
    const v = await until('the second agent write kept the first as a version', async () => {
      const l = await versions('report.md');
      return l.length === 1 ? l : undefined;
    });
    expect(v[0]).toMatchObject({ reason: 'overwrite', origin: 'agent', size: 'agent draft one\n'.length });
    // The copies the hub keeps are its own: not in the workspace, never listed.
    await a.sync();
    expect(await a.read('report.md')).toBe('agent draft two\n');
  });
});
