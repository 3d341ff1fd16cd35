// `youlab-sync kb-status [--json] [--confirm-deletes]` (the real command, through tsx) against a
// real hub whose KB sync talks to the emulator: the failed file with Open WebUI's reason and what
// to do, exit codes like a sync round's (3 failed, 4 held), the held deletes confirmed from the
// command line, a hub without Open WebUI, a refused key.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KbStatusSchema } from '../../shared/kb-status.ts';
import { runCli, type ClientOptions } from '../helpers/client.ts';
import { auth, startHub, type HubHandle } from '../helpers/hub.ts';
import { startEmulatorTarget, startHubWithOpenWebUI, type OpenWebUITarget } from '../helpers/openwebui.ts';

describe('youlab-sync kb-status', () => {
  let target: OpenWebUITarget;
  let hub: HubHandle;
  let scratch: string;

  beforeAll(async () => {
    target = await startEmulatorTarget();
    hub = await startHubWithOpenWebUI(target, { RALPH_SYNC_DEBOUNCE_MS: '600000', RALPH_SYNC_DEBOUNCE_MAX_MS: '600000' });
    scratch = await mkdtemp(join(tmpdir(), 'youlab-kbcli-'));
  });
  afterAll(async () => {
    await hub?.stop();
    await target?.stop();
    await rm(scratch, { recursive: true, force: true });
  });

  async function user() {
    const u = await target.createUser('Cli');
    const key = await hub.createKey(u.id);
    const base = `${hub.url}/users/${u.id}/workspace`;
    const put = async (p: string, body: string) => {
      const r = await fetch(`${base}/files/${p}`, { method: 'PUT', headers: { ...auth(key), 'if-none-match': '*' }, body });
      expect(r.status).toBe(200);
    };
    const del = async (p: string) => {
      const etag = (await fetch(`${base}/files/${p}`, { method: 'HEAD', headers: auth(key) })).headers.get('etag')!;
      expect((await fetch(`${base}/files/${p}`, { method: 'DELETE', headers: { ...auth(key), 'if-match': etag } })).status).toBe(204);
    };
    const sync = async () => {
      const r = await fetch(`${base}/sync`, { method: 'POST', headers: { ...auth(key), 'content-type': 'application/json' }, body: '{}' });
      expect(r.status).toBe(200);
      return (await r.json()) as { guard?: string };
    };
    const cli: ClientOptions = { server: hub.url, key, folder: join(scratch, u.id), stateDir: join(scratch, `${u.id}-state`) };
    return { put, del, sync, cli };
  }

  it('lists the failed file with Open WebUI’s reason and what to do (exit 3); --json prints every file', async () => {
    const { put, sync, cli } = await user();
    await put('notes.md', 'Enzymes speed up reactions.\n');
    await put('empty.md', '');
    await put('photo.bin', 'not for the KB');
    await sync();
    const r = await runCli(cli, ['kb-status']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(3);
    expect(r.stdout).toContain('1 synced · 0 pending · 0 processing · 1 failed · 1 ignored · 0 held (of 3)');
    expect(r.stdout).toMatch(/\n {2}empty\.md\tprocessing_failed: The content provided is empty[^\n]*\(1 attempt, next retry /);
    expect(r.stdout).toContain('what to do: Open WebUI could not read text from this file');
    expect(r.stdout).toMatch(/last round \S+ \(bidirectional, [\d.]+ m?s\): ok/);

    const j = await runCli(cli, ['kb-status', '--json']);
    expect(j.code).toBe(3);
    const answer = KbStatusSchema.parse(JSON.parse(j.stdout));
    expect(answer.files.map((f) => [f.path, f.state])).toEqual([
      ['empty.md', 'failed'],
      ['notes.md', 'synced'],
      ['photo.bin', 'ignored'],
    ]);
  });

  it('held deletes exit 4 and are confirmed with --confirm-deletes (then exit 0)', async () => {
    const { put, del, sync, cli } = await user();
    const names = Array.from({ length: 10 }, (_, i) => `old/n${i}.md`);
    for (const [i, n] of names.entries()) await put(n, `note ${i}: osmosis and diffusion ${i * 3}\n`);
    await put('keep.md', 'stays\n');
    await sync();
    for (const n of names) await del(n);
    expect((await sync()).guard).toMatch(/would delete 10 of 11/);

    const held = await runCli(cli, ['kb-status']);
    expect(held.code).toBe(4);
    expect(held.stdout).toContain('held by the mass-delete guard: this round would delete 10 of 11 files on the hub');
    expect(held.stdout).toContain('  old/n0.md\tdelete_in_openwebui');
    expect(held.stdout).toContain('To confirm: youlab-sync kb-status --confirm-deletes');

    const confirmed = await runCli(cli, ['kb-status', '--confirm-deletes']);
    expect(confirmed.stdout).toContain('10 deleted');
    expect(confirmed.code).toBe(0);
    expect(confirmed.stdout).toContain('1 synced · 0 pending · 0 processing · 0 failed · 0 ignored · 0 held (of 1)');
  });

  it('a hub without Open WebUI says so; a refused key exits 2', async () => {
    const plain = await startHub();
    try {
      const key = await plain.createKey('solo');
      const r = await runCli({ server: plain.url, key, folder: join(scratch, 'solo'), stateDir: join(scratch, 'solo-state') }, ['kb-status']);
      expect(r.code).toBe(0);
      expect(r.stdout.trim()).toMatch(/^the hub does not sync a knowledge base: /);
      const bad = await runCli({ server: plain.url, key: 'ylk_nobody_000', folder: join(scratch, 'x'), stateDir: join(scratch, 'x-state') }, ['kb-status']);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/^error: .*\(HTTP 401\)/);
    } finally {
      await plain.stop();
    }
  });
});
