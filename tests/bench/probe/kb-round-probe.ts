// Developer probe (not part of `npm run bench`): where the time of a KB round goes, against a REAL
// Open WebUI (the venv of scripts/openwebui-install.sh, started offline by tests/helpers/openwebui.ts).
//
//   node --import tsx tests/bench/probe/kb-round-probe.ts [files=200] [modes=round,hub,raw]
//
// - round: the hub's KbSync in process on a folder store, every OpenWebUIClient method timed
//   (count, summed ms; nested calls such as processStatus inside waitProcessed count too), the
//   time inside the steps and the gaps between them (state writes, planning), then a no-change
//   round and one edited file.
// - hub: the real hub process with its default settings: files in place, POST /sync, until the KB
//   lists them all (and the rounds the hub logged); a no-change POST /sync (p50 of 5); then one
//   agent edit at a time -> new content listed in the KB (p50 of PROBE_EDITS, default 5).
// - raw: what Open WebUI itself can do with oikb's way (upload with metadata.knowledge_id, processed
//   in the background, one at a time), until the KB lists them all: the floor to compare with.
// Set RALPH_SYNC_CONCURRENCY to try other widths (modes round and hub).
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import got from 'got';
import { OpenWebUIClient } from '../../../server/openwebui/client.ts';
import { KbSync } from '../../../server/openwebui/kb-sync.ts';
import { DEFAULT_EXTENSIONS } from '../../../server/openwebui/plan.ts';
import { auth } from '../../helpers/hub.ts';
import { folderStore, startHubWithOpenWebUI, startRealOpenWebUI, tempRoot, type OpenWebUITarget } from '../../helpers/openwebui.ts';

const N = Number(process.argv[2] ?? 200);
const MODES = (process.argv[3] ?? 'round,hub,raw').split(',');
const EDITS = Number(process.env.PROBE_EDITS ?? 5);
const t = (): number => performance.now();
const ms = (x: number): string => `${Math.round(x)} ms`;

/** 200 markdown notes of 2-6 KB in 20 folders, distinct text (no duplicate-content refusals). */
function tree(n: number): Map<string, string> {
  const out = new Map<string, string>();
  const words = ['cell', 'light', 'water', 'energy', 'river', 'mountain', 'theorem', 'proof', 'poem', 'market', 'engine', 'forest'];
  for (let i = 0; i < n; i++) {
    const lines = [`# Note ${i}`, ''];
    const size = 2048 + ((i * 7919) % 4096);
    for (let l = 0; lines.join('\n').length < size; l++) {
      lines.push(`Line ${l} of note ${i}: ${words[(i + l) % words.length]} ${words[(i * 3 + l) % words.length]} ${i * 1000 + l}.`);
    }
    out.set(`topic-${String(i % 20).padStart(2, '0')}/note-${String(i).padStart(3, '0')}.md`, lines.join('\n') + '\n');
  }
  return out;
}

async function seed(dir: string, files: Map<string, string>): Promise<void> {
  for (const [p, body] of files) {
    await mkdir(join(dir, p, '..'), { recursive: true });
    await writeFile(join(dir, p), body);
  }
}

type Stat = { n: number; sum: number };

/** Time every method of the client (own and inherited), by name. */
function instrument(client: OpenWebUIClient): Map<string, Stat> {
  const stats = new Map<string, Stat>();
  const names = new Set<string>();
  for (let p = Object.getPrototypeOf(client) as object; p && p !== Object.prototype; p = Object.getPrototypeOf(p) as object) {
    for (const k of Object.getOwnPropertyNames(p)) if (k !== 'constructor') names.add(k);
  }
  const c = client as unknown as Record<string, unknown>;
  for (const name of names) {
    const desc = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(client), name) ?? Object.getOwnPropertyDescriptor(OpenWebUIClient.prototype, name);
    if (desc?.get) continue;
    const orig = c[name];
    if (typeof orig !== 'function') continue;
    const key = name === 'call' ? 'http (every JSON call)' : name;
    c[name] = async (...args: unknown[]): Promise<unknown> => {
      const t0 = t();
      try {
        return await (orig as (...a: unknown[]) => Promise<unknown>).apply(client, args);
      } finally {
        const s = stats.get(key) ?? { n: 0, sum: 0 };
        s.n++;
        s.sum += t() - t0;
        stats.set(key, s);
      }
    };
  }
  return stats;
}

function report(title: string, wall: number, files: number, stats: Map<string, Stat>, extra: Record<string, Stat> = {}): void {
  console.log(`\n== ${title}: ${ms(wall)} for ${files} files (${ms(wall / Math.max(1, files))} per file)`);
  const rows = [...stats, ...Object.entries(extra)].sort((a, b) => b[1].sum - a[1].sum);
  for (const [k, s] of rows) {
    console.log(`  ${k.padEnd(28)} ${String(s.n).padStart(5)} calls  ${ms(s.sum).padStart(10)} summed  ${(s.sum / Math.max(1, files)).toFixed(1).padStart(7)} ms/file  ${(s.sum / Math.max(1, s.n)).toFixed(1).padStart(7)} ms/call`);
  }
}

async function roundMode(target: OpenWebUITarget, files: Map<string, string>): Promise<void> {
  const user = await target.createUser('ProbeRound');
  const root = await tempRoot('kb-probe-');
  try {
    const store = folderStore(root);
    await seed(store.workspaceDir(user.id), files);
    const client = new OpenWebUIClient({ url: target.url, apiKey: target.adminApiKey });
    const stats = instrument(client);
    const concurrency = process.env.RALPH_SYNC_CONCURRENCY ? Number(process.env.RALPH_SYNC_CONCURRENCY) : undefined;
    const sync = new KbSync({ client, store, extensions: DEFAULT_EXTENSIONS, ...(concurrency ? { concurrency } : {}) });
    // Time inside each step and the gaps between steps (the round's own work: state writes, plan).
    const steps = (sync as unknown as { steps: { run: (...a: unknown[]) => Promise<void> } }).steps;
    const run = steps.run.bind(steps);
    const inSteps: Stat = { n: 0, sum: 0 };
    let active = 0;
    let lastEnd = 0;
    const gaps: Stat = { n: 0, sum: 0 };
    steps.run = async (...a: unknown[]) => {
      const t0 = t();
      if (active === 0 && lastEnd > 0) {
        gaps.n++;
        gaps.sum += t0 - lastEnd;
      }
      active++;
      try {
        await run(...a);
      } finally {
        active--;
        inSteps.n++;
        inSteps.sum += t() - t0;
        lastEnd = t();
      }
    };
    let t0 = t();
    const s = await sync.sync(user.id, 'to_openwebui');
    report('first round (in process)', t() - t0, s.uploaded.length, stats, { 'steps.run (wall, summed)': inSteps, 'between steps (no step running)': gaps });
    if (s.failed.length || s.pending.length) console.log('  failed', s.failed.length, 'pending', s.pending.length, s.failed.slice(0, 3));

    stats.clear();
    t0 = t();
    await sync.sync(user.id);
    report('no-change round (in process)', t() - t0, files.size, stats);

    const [path] = [...files.keys()];
    await writeFile(join(store.workspaceDir(user.id), path!), `${files.get(path!)}edited ${Date.now()}\n`);
    stats.clear();
    t0 = t();
    const e = await sync.sync(user.id);
    report('one edited file (in process)', t() - t0, e.uploaded.length, stats);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

async function kbListing(target: OpenWebUITarget, kbId: string): Promise<{ id: string; hash?: string | null; meta?: { data?: { path?: string } } }[]> {
  const out: { id: string; meta?: { data?: { path?: string } } }[] = [];
  for (let page = 1; page < 100; page++) {
    const r = await got(`${target.url}/api/v1/knowledge/${kbId}/files`, {
      headers: { authorization: `Bearer ${target.adminApiKey}` },
      searchParams: { page, limit: 1000 },
    }).json<{ items: { id: string }[]; total: number }>();
    out.push(...r.items);
    if (r.items.length === 0 || out.length >= r.total) break;
  }
  return out;
}

async function hubMode(target: OpenWebUITarget, files: Map<string, string>): Promise<void> {
  const user = await target.createUser('ProbeHub');
  const hub = await startHubWithOpenWebUI(target, {
    LOG_LEVEL: 'info',
    ...(process.env.RALPH_SYNC_CONCURRENCY ? { RALPH_SYNC_CONCURRENCY: process.env.RALPH_SYNC_CONCURRENCY } : {}),
  });
  try {
    const key = await hub.createKey(user.id);
    // From files in place: the agent watcher may start the round before POST /sync does.
    const t0 = t();
    await seed(join(hub.dataDir, user.id, 'workspace'), files);
    const post = fetch(`${hub.url}/users/${user.id}/workspace/sync`, {
      method: 'POST',
      headers: { ...auth(key), 'content-type': 'application/json' },
      body: JSON.stringify({ direction: 'to_openwebui' }),
    }).then(
      (r) => `${r.status} after ${ms(t() - t0)}`,
      (e: unknown) => `no answer (${String(e)}) after ${ms(t() - t0)}`,
    );
    let kbId: string | undefined;
    for (let i = 0; !kbId && i < 6000; i++) {
      const st = (await (await fetch(`${hub.url}/users/${user.id}/workspace/status`, { headers: auth(key) })).json()) as { knowledge_id?: string };
      kbId = st.knowledge_id ?? undefined;
      if (!kbId) await new Promise((r) => setTimeout(r, 50));
    }
    for (;;) {
      if ((await kbListing(target, kbId!)).length >= files.size) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    console.log(`\n== hub: all ${files.size} files listed in the KB after ${ms(t() - t0)}; POST /sync answered ${await post}`);
    for (const line of hub.logs().split('\n')) {
      if (!line.includes('"kb sync round"')) continue;
      const r = JSON.parse(line) as { time: number; uploaded: number; pending: number; failed: number };
      console.log(`   round ended ${new Date(r.time).toISOString().slice(11, 23)}: uploaded ${r.uploaded}, pending ${r.pending}, failed ${r.failed}`);
    }
    const quiet: number[] = [];
    for (let i = 0; i < 5; i++) {
      const q0 = t();
      const r = await fetch(`${hub.url}/users/${user.id}/workspace/sync`, {
        method: 'POST',
        headers: { ...auth(key), 'content-type': 'application/json' },
        body: JSON.stringify({ direction: 'bidirectional' }),
      });
      await r.arrayBuffer();
      quiet.push(t() - q0);
    }
    quiet.sort((a, b) => a - b);
    console.log(`== hub: no-change round (POST /sync, 200): p50 ${ms(quiet[2]!)}, all ${quiet.map(ms).join(', ')}`);

    const lat: number[] = [];
    const paths = [...files.keys()];
    for (let i = 0; i < EDITS; i++) {
      const p = paths[(i * 37) % paths.length]!;
      const before = new Set((await kbListing(target, kbId!)).map((f) => f.id));
      const e0 = t();
      await writeFile(join(hub.dataDir, user.id, 'workspace', p), `${files.get(p)}edit ${i} ${Date.now()}\n`);
      for (;;) {
        const now = await kbListing(target, kbId!);
        const fresh = now.find((f) => !before.has(f.id) && f.meta?.data?.path === p);
        if (fresh) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      lat.push(t() - e0);
      await new Promise((r) => setTimeout(r, 1500)); // let the round (and its confirming round) end
    }
    lat.sort((a, b) => a - b);
    console.log(`== hub: one agent edit -> new file listed in the KB: p50 ${ms(lat[Math.floor(lat.length / 2)]!)}, all ${lat.map(ms).join(', ')}`);
  } finally {
    await hub.stop();
  }
}

async function rawMode(target: OpenWebUITarget, files: Map<string, string>): Promise<void> {
  const admin = got.extend({ prefixUrl: target.url, headers: { authorization: `Bearer ${target.adminApiKey}` } });
  const kb = await admin.post('api/v1/knowledge/create', { json: { name: `raw-${Date.now()}`, description: '', access_grants: [] } }).json<{ id: string }>();
  const t0 = t();
  for (const [p, body] of files) {
    const form = new FormData();
    form.append('file', new Blob([body], { type: 'text/markdown' }), p.slice(p.lastIndexOf('/') + 1));
    form.append('metadata', JSON.stringify({ knowledge_id: kb.id }));
    await admin.post('api/v1/files/', { body: form });
  }
  const uploaded = t() - t0;
  for (;;) {
    if ((await kbListing(target, kb.id)).length >= files.size) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  console.log(`\n== raw (oikb's way: auto-link, background, one at a time): uploads sent in ${ms(uploaded)}, all listed after ${ms(t() - t0)}`);
}

const target = await startRealOpenWebUI();
console.log(`Open WebUI ${target.version} at ${target.url}; ${N} files; modes ${MODES.join(',')}`);
try {
  const files = tree(N);
  // In the order given: each mode leaves 200 more files in the same Open WebUI, which may slow
  // the next one, so compare orders before trusting a ratio.
  const modes: Record<string, () => Promise<void>> = {
    raw: () => rawMode(target, files),
    round: () => roundMode(target, files),
    hub: () => hubMode(target, files),
  };
  for (const m of MODES) await modes[m]?.();
} finally {
  await target.stop();
}
