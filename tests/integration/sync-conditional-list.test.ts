// Conditional listings (If-None-Match "<cursor>" -> 304) and the client's clean cursor: the hub
// answers 304 only when its feed holds nothing after the cursor and it has walked the workspace;
// its background walk announces what its watcher missed; the client treats the hub as unchanged
// only with a cursor at which the listing equalled its base (app/sync/round.ts "clean cursor").
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubClient } from '../../app/sync/hub-client.ts';
import { runRound, type RoundContext } from '../../app/sync/round.ts';
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

  it('a change behind the hub\'s back is found by the walk after a 304 and announced in the feed', async () => {
    const hub = await localHub('h2');
    try {
      const key = await hub.key('alice');
      const ws = hub.store.workspaceDir('alice');
      await mkdir(join(ws, 'keep'), { recursive: true });
      await writeFile(join(ws, 'keep', 'old.txt'), 'old');
      await writeFile(join(ws, 'gone.txt'), 'gone');
      const { cursor } = (await listing(hub.url, key, 'alice')).json<{ cursor: string }>();
      // Written and deleted with no watcher running: nothing in the feed yet.
      await mkdir(join(ws, 'new', 'deep'), { recursive: true });
      await writeFile(join(ws, 'new', 'deep', 'agent.txt'), 'from the agent');
      await writeFile(join(ws, 'keep', 'old.txt'), 'old, edited');
      await unlink(join(ws, 'gone.txt'));
      expect((await listing(hub.url, key, 'alice', `"${cursor}"`)).status).toBe(304);
      await announced(hub.url, key, 'alice', cursor, 'new/deep/agent.txt', sha('from the agent'), 'agent');
      await announced(hub.url, key, 'alice', cursor, 'keep/old.txt', sha('old, edited'), 'agent');
      await announced(hub.url, key, 'alice', cursor, 'gone.txt', null, 'agent');
      expect((await listing(hub.url, key, 'alice', `"${cursor}"`)).status).toBe(200);
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
      expect(ctx.state.cleanCursor).toBeUndefined();
      const r2 = await runRound(ctx);
      expect(answers).toEqual([200, 200]);
      expect(ctx.state.cleanCursor).toBe(r2.cursor);
      const saved = JSON.parse(await readFile(ctx.store.file, 'utf8')) as { cleanCursor?: string };
      expect(saved.cleanCursor).toBe(r2.cursor);
      const r3 = await runRound(ctx);
      expect(answers).toEqual([200, 200, 304]);
      expect(r3).toMatchObject({ uploaded: 0, downloaded: 0, deleted: 0, cursor: r2.cursor });

      await mkdir(join(ws, 'fresh'), { recursive: true });
      await writeFile(join(ws, 'fresh', 'agent.txt'), 'agent');
      // The change is announced (by the walk the next 304 starts) after the clean cursor...
      await runRound(ctx);
      await announced(hub.url, key, 'alice', r2.cursor, 'fresh/agent.txt', sha('agent'));
      // ...so the next round lists in full and downloads it.
      const r5 = await runRound(ctx);
      expect(answers.at(-1)).toBe(200);
      expect(r5.downloaded).toBe(1);
      expect(await readFile(join(folder, 'fresh', 'agent.txt'), 'utf8')).toBe('agent');
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
      expect(ctx.state.cleanCursor).toBeDefined();
      await writeFile(join(folder, 'a.txt'), 'a, edited');
      await writeFile(join(folder, 'b.txt'), 'b');
      const up = await runRound(ctx);
      expect(answers.at(-1)).toBe(304);
      expect(up.uploaded).toBe(2);
      expect(ctx.state.cleanCursor).toBeUndefined();
      expect(JSON.parse(await readFile(ctx.store.file, 'utf8'))).not.toHaveProperty('cleanCursor');
      expect(await readFile(join(hub.store.workspaceDir('alice'), 'a.txt'), 'utf8')).toBe('a, edited');
      await runRound(ctx);
      expect(answers.at(-1)).toBe(200);
      expect(ctx.state.cleanCursor).toBeDefined();
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
      await runRound(ctx);
      // The hub's copy changes behind its back (not announced yet), and the local copy is deleted.
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
      expect(ctx.state.cleanHidden).toEqual(['build/out.txt']);
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
      expect(ctx.state.cleanCursor).toBe(r.cursor);
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
    const before = ctx.state.cleanCursor!;
    expect(before).toBeDefined();
    await hub.restart();
    // The restarted hub may listen on another port.
    const { ctx: ctx2, answers: answers2 } = await client(hub.url, key, 'b2');
    const r = await runRound(ctx2);
    expect(answers2).toEqual([200]);
    expect(r.cursor.split(':')[0]).not.toBe(before.split(':')[0]);
    expect(ctx2.state.cleanCursor).toBe(r.cursor);
    void answers;
  });
});
