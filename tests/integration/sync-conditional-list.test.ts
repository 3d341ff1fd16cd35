// Conditional listings (If-None-Match "<cursor>" -> 304) and the client's clean cursor: the hub
// answers 304 only when its feed holds nothing after the cursor and it has walked the workspace;
// its background walk announces what its watcher missed; the client treats the hub as unchanged
// only with a cursor at which the listing equalled its base (app/sync/round.ts "clean cursor").
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, unlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubClient } from '../../app/sync/hub-client.ts';
import type { RoundContext } from '../../app/sync/round-context.ts';
import { runRound } from '../../app/sync/round.ts';
import { StateStore } from '../../app/sync/state.ts';
import { Trash } from '../../app/sync/trash.ts';
import { createIgnore } from '../../shared/ignore-rules.ts';
import { createApp } from '../../server/app.ts';
import { KeyStore } from '../../server/auth/keys.ts';
import { silentLogger } from '../../server/log.ts';
import { FsWorkspaceStore } from '../../server/workspace/fs-store.ts';
import { auth, rawRequest, startHub, type HubHandle } from '../helpers/hub.ts';

const sha = (s: string): string => 'sha256:' + createHash('sha256').update(s).digest('hex');
const LIMITS = { maxFileBytes: 1 << 20, rateLimitSyncPerMin: 10_000, rateLimitTransferPerMin: 100_000 };

let dir: string;

/** A hub in this process without the agent watcher: a file written into a workspace is a change behind its back. */
interface LocalHub {
  url: string;
  store: FsWorkspaceStore;
  key(user: string): Promise<string>;
  close(): Promise<void>;
}

async function localHub(name: string, opts: { ignoreConditional?: boolean } = {}): Promise<LocalHub> {
  const dataDir = join(dir, name);
  await mkdir(dataDir, { recursive: true });
  const keys = KeyStore.forDataDir(dataDir);
  const log = silentLogger();
  const store = new FsWorkspaceStore({ dataDir, maxFileBytes: LIMITS.maxFileBytes, maxWorkspaceBytes: 1 << 30, versionRetentionDays: 30, log });
  const app = createApp({ keys, store, log, limits: LIMITS });
  const outer = express();
  // An older hub knows nothing of conditional listings: it answers every listing in full.
  if (opts.ignoreConditional) outer.use((req, _res, next) => ((delete req.headers['if-none-match'], next())));
  outer.use(app);
  const server: Server = createServer(outer);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    store,
    key: async (user) => (await keys.create({ userId: user })).key,
    close: async () => {
      await store.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

/** A round context whose hub client records how each listing was answered. */
async function client(url: string, key: string, name: string): Promise<{ ctx: RoundContext; folder: string; answers: number[]; stateDir: string }> {
  const folder = join(dir, name, 'folder');
  const stateDir = join(dir, name, 'state');
  await mkdir(folder, { recursive: true });
  const hub = new HubClient({ baseUrl: url, apiKey: key });
  const answers: number[] = [];
  const orig = hub.listIfChanged.bind(hub);
  hub.listIfChanged = async (c?: string) => {
    const r = await orig(c);
    answers.push('notModified' in r ? 304 : 200);
    return r;
  };
  // (list() goes through listIfChanged too.)
  const store = new StateStore(stateDir);
  const { state } = await store.load();
  const ctx: RoundContext = { folder, device: name, hub, store, state, trash: new Trash(join(stateDir, 'trash')), ignore: createIgnore(), tmpDir: join(stateDir, 'tmp') };
  return { ctx, folder, answers, stateDir };
}

async function listing(url: string, key: string, user: string, tag?: string) {
  return rawRequest(url, { path: `/users/${user}/workspace/files`, headers: { ...auth(key), ...(tag !== undefined ? { 'if-none-match': tag } : {}) } });
}

/** Waits until the feed after `since` announces `path` (with `hash`; null = deleted). */
async function announced(url: string, key: string, user: string, since: string, path: string, hash: string | null, source?: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  let cursor = since;
  while (Date.now() < deadline) {
    const res = await rawRequest(url, { path: `/users/${user}/workspace/changes?since=${encodeURIComponent(cursor)}&wait=5`, headers: auth(key) });
    const body = res.json<{ cursor: string; changes: { path: string; hash: string | null; source?: string }[] }>();
    if (body.changes.some((c) => c.path === path && c.hash === hash && (source === undefined || c.source === source))) return;
    cursor = body.cursor;
  }
  throw new Error(`the feed never announced ${path} = ${hash}`);
}

/**
 * Dates every folder under `root` a minute back, as if its entries were made long ago: file-system
 * timestamps are coarse, so the hub trusts a folder's mtime only once it is older than a couple of
 * seconds (server/workspace/folder-marks.ts), and a test that needs a 304 after an in-place edit
 * would otherwise have to wait that long.
 */
async function ageFolders(root: string): Promise<void> {
  const past = new Date(Date.now() - 60_000);
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) if (e.isDirectory()) await walk(join(d, e.name));
    await utimes(d, past, past);
  };
  await walk(root);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'youlab-cond-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});


/**
 * Runs rounds until the hub answers 304 (it does once its agent watcher has settled the events
 * of the latest writes, normally within a few hundred ms); fails after 10 s.
 */
async function roundsUntil304(ctx: Parameters<typeof runRound>[0], answers: number[]): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const r = await runRound(ctx);
    expect(r.work).toBe(0);
    if (answers.at(-1) === 304) return;
    if (Date.now() > deadline) throw new Error(`no 304 within 10 s: ${answers.join(',')}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

describe('conditional listing on the hub', { timeout: 60_000 }, () => {
  it('answers 304 only when nothing changed after the cursor and the hub has walked the workspace', async () => {
    const hub = await localHub('h1');
    try {
      const key = await hub.key('alice');
      await mkdir(join(hub.store.workspaceDir('alice')), { recursive: true });
      await writeFile(join(hub.store.workspaceDir('alice'), 'a.txt'), 'a');
      // The current cursor, before this hub has walked alice's workspace: no 304 yet.
      const cur = (await hub.store.journal.cursor('alice')) as string;
      const first = await listing(hub.url, key, 'alice', `"${cur}"`);
      expect(first.status).toBe(200);
      const body = first.json<{ cursor: string; files: { path: string }[] }>();
      expect(body.files.map((f) => f.path)).toEqual(['a.txt']);
      expect(first.headers.etag).toBe(`"${body.cursor}"`);

      const same = await listing(hub.url, key, 'alice', `"${body.cursor}"`);
      expect(same.status).toBe(304);
      expect(same.body.length).toBe(0);
      expect(same.headers.etag).toBe(`"${body.cursor}"`);
      // A weak tag names the same cursor; garbage, * and other cursors get the full listing.
      expect((await listing(hub.url, key, 'alice', `W/"${body.cursor}"`)).status).toBe(304);
      expect((await listing(hub.url, key, 'alice', '*')).status).toBe(200);
      expect((await listing(hub.url, key, 'alice', '"nonsense"')).status).toBe(200);
      expect((await listing(hub.url, key, 'alice', `"${body.cursor}x"`)).status).toBe(200);

      // A write through the hub moves the feed: the old cursor now gets the full listing.
      const put = await rawRequest(hub.url, { method: 'PUT', path: '/users/alice/workspace/files/b.txt', headers: { ...auth(key), 'if-none-match': '*' }, body: 'b' });
      expect(put.status).toBe(200);
      const after = await listing(hub.url, key, 'alice', `"${body.cursor}"`);
      expect(after.status).toBe(200);
      expect(after.json<{ files: { path: string }[] }>().files.map((f) => f.path)).toEqual(['a.txt', 'b.txt']);
    } finally {
      await hub.close();
    }
  });

  it('an in-place edit behind the hub\'s back is found by the walk after a 304 and announced in the feed', async () => {
    const hub = await localHub('h2');
    try {
      const key = await hub.key('alice');
      const ws = hub.store.workspaceDir('alice');
      await mkdir(join(ws, 'keep'), { recursive: true });
      await writeFile(join(ws, 'keep', 'old.txt'), 'old');
      await ageFolders(ws);
      const { cursor } = (await listing(hub.url, key, 'alice')).json<{ cursor: string }>();
      // Edited in place with no watcher running: no folder changes, nothing in the feed yet.
      await writeFile(join(ws, 'keep', 'old.txt'), 'old, edited');
      // Read through the API first: hashing it for the read must not make the hub's view hold the
      // edit as if it had been announced (the walk compares against that view).
      const read = await rawRequest(hub.url, { path: '/users/alice/workspace/files/keep/old.txt', headers: auth(key) });
      expect(read.headers.etag).toBe(`"${sha('old, edited')}"`);
      expect((await listing(hub.url, key, 'alice', `"${cursor}"`)).status).toBe(304);
      await announced(hub.url, key, 'alice', cursor, 'keep/old.txt', sha('old, edited'), 'agent');
      expect((await listing(hub.url, key, 'alice', `"${cursor}"`)).status).toBe(200);
    } finally {
      await hub.close();
    }
  });

  it('issue 19: a file or folder added, removed or renamed behind the hub\'s back before the request is never hidden by a 304', async () => {
    const hub = await localHub('h2b');
    try {
      const key = await hub.key('alice');
      const ws = hub.store.workspaceDir('alice');
      await mkdir(join(ws, 'keep', 'deep'), { recursive: true });
      await writeFile(join(ws, 'keep', 'deep', 'old.txt'), 'old');
      await writeFile(join(ws, 'gone.txt'), 'gone');
      await writeFile(join(ws, 'moved.txt'), 'moved');
      await ageFolders(ws);
      const first = (await listing(hub.url, key, 'alice')).json<{ cursor: string }>();
      expect((await listing(hub.url, key, 'alice', `"${first.cursor}"`)).status).toBe(304);
      // No watcher runs: each of these is known to the disk only. Each must end the 304 on its own.
      const cases: [string, () => Promise<void>, string, string | null][] = [
        ['a new folder with a file (mkdir -p, write)', async () => {
          await mkdir(join(ws, 'agent', 'sub'), { recursive: true });
          await writeFile(join(ws, 'agent', 'sub', 'report.md'), 'report');
        }, 'agent/sub/report.md', sha('report')],
        ['a new file in a deep existing folder', () => writeFile(join(ws, 'keep', 'deep', 'new.txt'), 'new'), 'keep/deep/new.txt', sha('new')],
        ['a file deleted', () => unlink(join(ws, 'gone.txt')), 'gone.txt', null],
        ['a file renamed', async () => {
          const { rename } = await import('node:fs/promises');
          await rename(join(ws, 'moved.txt'), join(ws, 'keep', 'moved.txt'));
        }, 'keep/moved.txt', sha('moved')],
      ];
      for (const [what, change, path, hash] of cases) {
        await ageFolders(ws);
        // A listing that settles the marks (a compare after the ageing) and then a 304...
        const { cursor } = (await listing(hub.url, key, 'alice')).json<{ cursor: string }>();
        expect((await listing(hub.url, key, 'alice', `"${cursor}"`)).status, `304 before: ${what}`).toBe(304);
        await change();
        // ...which the change ends at once: the full listing holds it, and the feed announces it.
        const res = await listing(hub.url, key, 'alice', `"${cursor}"`);
        expect(res.status, what).toBe(200);
        const paths = res.json<{ files: { path: string }[] }>().files.map((f) => f.path);
        expect(paths.includes(path), what).toBe(hash !== null);
        await announced(hub.url, key, 'alice', cursor, path, hash, 'agent');
      }
    } finally {
      await hub.close();
    }
  });

  it('the hub\'s own writes into a folder do not cost a full listing: the folder is compared with the view instead', async () => {
    const hub = await localHub('h2c');
    try {
      const key = await hub.key('alice');
      const ws = hub.store.workspaceDir('alice');
      await mkdir(join(ws, 'docs'), { recursive: true });
      await writeFile(join(ws, 'docs', 'a.txt'), 'a');
      await listing(hub.url, key, 'alice');
      for (const p of ['docs/b.txt', 'docs/new/c.txt']) {
        const put = await rawRequest(hub.url, { method: 'PUT', path: `/users/alice/workspace/files/${p}`, headers: { ...auth(key), 'if-none-match': '*' }, body: p });
        expect(put.status).toBe(200);
      }
      // The feed moved past the old cursor; at the current one, nothing is new on disk but the hub's own files.
      const cur = (await hub.store.journal.cursor('alice')) as string;
      expect((await listing(hub.url, key, 'alice', `"${cur}"`)).status).toBe(304);
    } finally {
      await hub.close();
    }
  });

  it('a full listing that finds a change behind the hub\'s back announces it too, so no later 304 hides it', async () => {
    const hub = await localHub('h3');
    try {
      const key = await hub.key('alice');
      const ws = hub.store.workspaceDir('alice');
      await mkdir(ws, { recursive: true });
      await writeFile(join(ws, 'x.txt'), 'x');
      const { cursor } = (await listing(hub.url, key, 'alice')).json<{ cursor: string }>();
      await writeFile(join(ws, 'y.txt'), 'y');
      // Another client lists in full (and sees y.txt); the holder of `cursor` must not get a 304.
      const other = await listing(hub.url, key, 'alice');
      expect(other.json<{ files: { path: string }[] }>().files.map((f) => f.path)).toEqual(['x.txt', 'y.txt']);
      expect((await listing(hub.url, key, 'alice', `"${cursor}"`)).status).toBe(200);
      await announced(hub.url, key, 'alice', cursor, 'y.txt', sha('y'));
    } finally {
      await hub.close();
    }
  });
});

describe('the client and conditional listings', { timeout: 120_000 }, () => {
  it('a no-change round uses the 304; a change behind the hub\'s back reaches the client once announced', async () => {
    const hub = await localHub('c1');
    try {
      const key = await hub.key('alice');
      const ws = hub.store.workspaceDir('alice');
      const { ctx, folder, answers } = await client(hub.url, key, 'c1');
      await writeFile(join(folder, 'mine.txt'), 'mine');
      const r1 = await runRound(ctx);
      expect(r1.uploaded).toBe(1);
      // The round uploaded: the listing it planned from is not the hub's state any more.
      expect(ctx.state.clean_cursor).toBeUndefined();
      const r2 = await runRound(ctx);
      expect(answers).toEqual([200, 200]);
      expect(ctx.state.clean_cursor).toBe(r2.cursor);
      const saved = JSON.parse(await readFile(ctx.store.file, 'utf8')) as { clean_cursor?: string };
      expect(saved.clean_cursor).toBe(r2.cursor);
      const r3 = await runRound(ctx);
      expect(answers).toEqual([200, 200, 304]);
      expect(r3).toMatchObject({ uploaded: 0, downloaded: 0, deleted: 0, cursor: r2.cursor });

      // Issue 19: the agent makes a folder and writes into it, and no watcher has seen it (this hub
      // runs none: the most held-back watcher there is). The very next round has it.
      await mkdir(join(ws, 'fresh'), { recursive: true });
      await writeFile(join(ws, 'fresh', 'agent.txt'), 'agent');
      const r4 = await runRound(ctx);
      expect(answers.at(-1)).toBe(200);
      expect(r4.downloaded).toBe(1);
      expect(await readFile(join(folder, 'fresh', 'agent.txt'), 'utf8')).toBe('agent');

      // An in-place edit changes no folder: once announced (by the walk the next 304 starts)...
      await runRound(ctx);
      await ageFolders(ws);
      await runRound(ctx);
      expect(answers.at(-1)).toBe(304);
      const clean = ctx.state.clean_cursor!;
      await writeFile(join(ws, 'fresh', 'agent.txt'), 'agent, edited');
      await runRound(ctx);
      expect(answers.at(-1)).toBe(304);
      await announced(hub.url, key, 'alice', clean, 'fresh/agent.txt', sha('agent, edited'));
      // ...the next round lists in full and downloads it.
      const r5 = await runRound(ctx);
      expect(answers.at(-1)).toBe(200);
      expect(r5.downloaded).toBe(1);
      expect(await readFile(join(folder, 'fresh', 'agent.txt'), 'utf8')).toBe('agent, edited');
    } finally {
      await hub.close();
    }
  });

  it('a round that uploads (after a 304) drops the clean cursor; the next one lists in full', async () => {
    const hub = await localHub('c2');
    try {
      const key = await hub.key('alice');
      const { ctx, folder, answers } = await client(hub.url, key, 'c2');
      await writeFile(join(folder, 'a.txt'), 'a');
      await runRound(ctx);
      await runRound(ctx);
      expect(ctx.state.clean_cursor).toBeDefined();
      await writeFile(join(folder, 'a.txt'), 'a, edited');
      await writeFile(join(folder, 'b.txt'), 'b');
      const up = await runRound(ctx);
      expect(answers.at(-1)).toBe(304);
      expect(up.uploaded).toBe(2);
      expect(ctx.state.clean_cursor).toBeUndefined();
      expect(JSON.parse(await readFile(ctx.store.file, 'utf8'))).not.toHaveProperty('clean_cursor');
      expect(await readFile(join(hub.store.workspaceDir('alice'), 'a.txt'), 'utf8')).toBe('a, edited');
      await runRound(ctx);
      expect(answers.at(-1)).toBe(200);
      expect(ctx.state.clean_cursor).toBeDefined();
    } finally {
      await hub.close();
    }
  });

  it('a delete planned from a 304 stays conditional: a hub change meanwhile is kept, not deleted', async () => {
    const hub = await localHub('c3');
    try {
      const key = await hub.key('alice');
      const ws = hub.store.workspaceDir('alice');
      const { ctx, folder, answers } = await client(hub.url, key, 'c3');
      await writeFile(join(folder, 'doc.txt'), 'v1');
      await writeFile(join(folder, 'other.txt'), 'stays');
      await runRound(ctx);
      await ageFolders(ws);
      await runRound(ctx);
      // The hub's copy changes behind its back in place (not announced yet), and the local copy is deleted.
      await writeFile(join(ws, 'doc.txt'), 'v2 from the agent');
      await unlink(join(folder, 'doc.txt'));
      const r = await runRound(ctx);
      expect(answers.at(-1)).toBe(304);
      expect(r.deleted).toBe(0);
      expect(r.again).toBe(true);
      expect(await readFile(join(ws, 'doc.txt'), 'utf8')).toBe('v2 from the agent');
      const next = await runRound(ctx);
      expect(answers.at(-1)).toBe(200);
      expect(next.downloaded).toBe(1);
      expect(await readFile(join(folder, 'doc.txt'), 'utf8')).toBe('v2 from the agent');
    } finally {
      await hub.close();
    }
  });

  it('a hub file hidden by the ignore rules is listed in full once the rules stop hiding it', async () => {
    const hub = await localHub('c6');
    try {
      const key = await hub.key('alice');
      const ws = hub.store.workspaceDir('alice');
      await mkdir(join(ws, 'build'), { recursive: true });
      await writeFile(join(ws, 'build', 'out.txt'), 'built');
      await writeFile(join(ws, 'a.txt'), 'a');
      const { ctx, folder, answers } = await client(hub.url, key, 'c6');
      ctx.ignore = createIgnore(['build/']);
      await runRound(ctx);
      await runRound(ctx);
      expect(ctx.state.clean_hidden).toEqual(['build/out.txt']);
      expect(answers.at(-1)).toBe(304);
      // The user drops the rule: the clean cursor never compared build/out.txt, so it is not used.
      ctx.ignore = createIgnore();
      const r = await runRound(ctx);
      expect(answers.at(-1)).toBe(200);
      expect(r.downloaded).toBe(1);
      expect(await readFile(join(folder, 'build', 'out.txt'), 'utf8')).toBe('built');
    } finally {
      await hub.close();
    }
  });

  it('an older hub that ignores If-None-Match keeps working', async () => {
    const hub = await localHub('c4', { ignoreConditional: true });
    try {
      const key = await hub.key('alice');
      const ws = hub.store.workspaceDir('alice');
      const { ctx, folder, answers } = await client(hub.url, key, 'c4');
      await writeFile(join(folder, 'a.txt'), 'a');
      await runRound(ctx);
      await runRound(ctx);
      await runRound(ctx);
      expect(answers).toEqual([200, 200, 200]);
      await mkdir(ws, { recursive: true });
      await writeFile(join(ws, 'b.txt'), 'b');
      expect((await runRound(ctx)).downloaded).toBe(1);
    } finally {
      await hub.close();
    }
  });

  it('a state.json from before clean cursors loads and syncs', async () => {
    const hub = await localHub('c5');
    try {
      const key = await hub.key('alice');
      const ws = hub.store.workspaceDir('alice');
      await mkdir(ws, { recursive: true });
      await writeFile(join(ws, 'a.txt'), 'a');
      const folder = join(dir, 'c5', 'folder');
      const stateDir = join(dir, 'c5', 'state');
      await mkdir(folder, { recursive: true });
      await mkdir(stateDir, { recursive: true });
      await writeFile(join(folder, 'a.txt'), 'a');
      // The old format: pretty-printed, sorted, no cleanCursor.
      const old = { version: 1, base: { 'a.txt': sha('a') }, cache: {}, conflicts: [], failures: {} };
      await writeFile(join(stateDir, 'state.json'), JSON.stringify(old, null, 2) + '\n');
      const { ctx, answers } = await client(hub.url, key, 'c5');
      expect(ctx.state.base).toEqual({ 'a.txt': sha('a') });
      const r = await runRound(ctx);
      expect(r).toMatchObject({ uploaded: 0, downloaded: 0, deleted: 0 });
      expect(ctx.state.clean_cursor).toBe(r.cursor);
      await runRound(ctx);
      expect(answers).toEqual([200, 304]);
    } finally {
      await hub.close();
    }
  });
});

describe('conditional listing against the hub binary (agent watcher on)', { timeout: 120_000 }, () => {
  let hub: HubHandle;
  beforeAll(async () => {
    hub = await startHub();
  });
  afterAll(async () => {
    await hub?.stop();
  });

  it('an agent write between two rounds is never missed: rounds keep going until it is downloaded', async () => {
    const key = await hub.createKey('bob');
    const ws = join(hub.dataDir, 'bob', 'workspace');
    const { ctx, folder, answers } = await client(hub.url, key, 'b1');
    await writeFile(join(folder, 'a.txt'), 'a');
    await runRound(ctx);
    await runRound(ctx);
    // The hub answers 304 once its agent watcher has dealt with the events of its own write.
    await roundsUntil304(ctx, answers);
    for (let i = 0; i < 3; i++) {
      const body = `agent ${i}`;
      // A just-created folder: the case the hub's watcher is known to miss now and then, which
      // the walk after a 304 then finds and announces.
      await mkdir(join(ws, `new${i}`), { recursive: true });
      await writeFile(join(ws, `new${i}`, 'f.txt'), body);
      const deadline = Date.now() + 30_000;
      let got = '';
      while (Date.now() < deadline) {
        await runRound(ctx);
        got = await readFile(join(folder, `new${i}`, 'f.txt'), 'utf8').catch(() => '');
        if (got === body) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(got).toBe(body);
      expect(ctx.state.base[`new${i}/f.txt`]).toBe(sha(body));
    }
    // Once everything is down, rounds are 304s again.
    await roundsUntil304(ctx, answers);
  });

  it('a hub restart (new feed epoch) answers the old clean cursor with the full listing', async () => {
    const key = await hub.createKey('carol');
    const { ctx, folder, answers } = await client(hub.url, key, 'b2');
    await writeFile(join(folder, 'a.txt'), 'a');
    await runRound(ctx);
    await runRound(ctx);
    const before = ctx.state.clean_cursor!;
    expect(before).toBeDefined();
    await hub.restart();
    // The restarted hub may listen on another port.
    const { ctx: ctx2, answers: answers2 } = await client(hub.url, key, 'b2');
    const r = await runRound(ctx2);
    expect(answers2).toEqual([200]);
    expect(r.cursor.split(':')[0]).not.toBe(before.split(':')[0]);
    expect(ctx2.state.clean_cursor).toBe(r.cursor);
    void answers;
  });
});
