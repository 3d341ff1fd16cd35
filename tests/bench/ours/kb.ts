// The hub's side of the knowledge-base section, on one tree of notes, as deployed: the compiled
// `youlab-hub` with RALPH_OPENWEBUI_URL / RALPH_OPENWEBUI_API_KEY (the admin's key) and one user
// whose hub id is their Open WebUI user id. The notes are put into that user's workspace folder
// before the hub starts, as Ralph's agent leaves files there ("files in place", as oikb gets
// them; the hub's watcher ignores what is there at start, so nothing syncs before the clock).
//   first sync: POST .../workspace/sync (the trigger a user or Ralph has) until the KB lists all;
//   no-change round: POST .../sync again, request to answer;
//   changed file: a note rewritten in the workspace folder; the hub's watcher and scheduler
//   (default 2 s debounce) run the round; timed until the KB lists the new bytes.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import got from 'got';
import { freshDir } from '../context.ts';
import { waitFor } from '../procs.ts';
import { kbKeys } from '../results.ts';
import { measureKbEdits, msList, type KbContext } from '../kb/measure.ts';
import { writeNotes } from '../kb/notes.ts';
import { kbFileCount, type KbServer } from '../kb/openwebui.ts';
import { createKey, startHub, type Hub } from './cli.ts';

interface Run {
  ctx: KbContext;
  s: KbServer;
  hub: Hub;
  user: string;
  key: string;
  n: number;
}

interface Summary {
  knowledge_id: string;
  uploaded: string[];
  pending: string[];
  failed: { path: string; reason: string; message?: string }[];
}

/**
 * What the scenario sets beyond the defaults, and why: the periodic safety-net round (default
 * every 300 s) is moved out of the measured windows (it would only queue no-change rounds behind
 * the measured ones). A long first sync needs nothing more: its POST .../sync answers 202 with
 * the round's URL after RALPH_SYNC_WAIT_MS, which `postSync` follows.
 */
function kbHubEnv(s: KbServer): Record<string, string> {
  return {
    RALPH_OPENWEBUI_URL: s.target.url,
    RALPH_OPENWEBUI_API_KEY: s.target.adminApiKey,
    RALPH_SYNC_INTERVAL: '3600',
  };
}

export async function hubKbScenario(ctx: KbContext, s: KbServer, n: number): Promise<void> {
  const base = await freshDir(ctx, `kb-hub-${n}`);
  const home = join(base, 'home');
  const dataDir = join(base, 'hub');
  await mkdir(home, { recursive: true });
  const user = (await s.target.createUser(`bench-hub-${n}`)).id;
  const key = await createKey(dataDir, user, home);
  await writeNotes(join(dataDir, user, 'workspace'), n);
  const hub = await startHub(dataDir, home, kbHubEnv(s));
  try {
    const r: Run = { ctx, s, hub, user, key, n };
    const kbId = await firstSync(r);
    await noChange(r);
    await edits(r, kbId);
  } finally {
    await hub.stop();
  }
}

/**
 * One KB round through the hub's API, as a user or Ralph triggers it: the summary when the round
 * ends within RALPH_SYNC_WAIT_MS, else a 202 with the round's URL, followed (every 100 ms) until
 * the round is done (server/README.md, "Knowledge-base sync").
 */
async function postSync(r: Run): Promise<Summary> {
  const headers = { authorization: `Bearer ${r.key}` };
  const res = await got.post(`${r.hub.url}/users/${r.user}/workspace/sync`, { headers, json: {}, retry: { limit: 0 } });
  if (res.statusCode !== 202) return JSON.parse(res.body) as Summary;
  const url = new URL((JSON.parse(res.body) as { status_url: string }).status_url, r.hub.url).toString();
  for (;;) {
    await sleep(100);
    const round = await got(url, { headers, retry: { limit: 0 } }).json<{ status: string; summary?: Summary; error?: string }>();
    if (round.status === 'done' && round.summary) return round.summary;
    if (round.status === 'failed') throw new Error(`the hub's KB round failed: ${round.error ?? 'no reason'}`);
  }
}

async function firstSync(r: Run): Promise<string> {
  const { ctx, n } = r;
  const t0 = performance.now();
  let summary = await postSync(r);
  // The round answers once every file is processed and added; a file still processing after
  // RALPH_SYNC_PROCESS_TIMEOUT_MS is left pending for the next round: run it, the clock goes on.
  for (let extra = 0; (await kbFileCount(r.s, summary.knowledge_id)) < n; extra++) {
    if (extra >= 5 || (summary.pending.length === 0 && summary.failed.length > 0)) {
      throw new Error(`the KB lists ${await kbFileCount(r.s, summary.knowledge_id)} of ${n} files; failed: ${JSON.stringify(summary.failed.slice(0, 3))}`);
    }
    ctx.log(`  youlab KB first sync ${n} notes: ${summary.pending.length} pending, one more round`);
    summary = await postSync(r);
  }
  const sec = (performance.now() - t0) / 1000;
  ctx.res.add(kbKeys(n).first, 'youlab', [sec], 'youlab hub: notes in place in the workspace folder, then POST .../workspace/sync until the KB lists all of them (followed through its 202 round URL until every file is processed and added; the hub was started before the clock)');
  ctx.log(`  youlab KB first sync ${n} notes: ${sec.toFixed(1)} s (${summary.uploaded.length} uploaded in the last round)`);
  return summary.knowledge_id;
}

async function noChange(r: Run): Promise<void> {
  const { ctx, n } = r;
  const rounds: number[] = [];
  for (let i = 0; i < ctx.opts.repeats; i++) {
    const t0 = performance.now();
    const s = await postSync(r);
    rounds.push(performance.now() - t0);
    if (s.uploaded.length) throw new Error(`a no-change round uploaded ${s.uploaded.length} files`);
  }
  ctx.res.add(kbKeys(n).nochange, 'youlab', rounds, 'youlab hub: POST .../workspace/sync again with nothing changed, request to answer (the hub is a running server: no start-up in it); lists the workspace and every KB file page, plans, writes nothing');
  ctx.log(`  youlab KB no-change ${n} notes: ${msList(rounds)} ms`);
}

/** Nothing running for this user (the status route says so). */
async function idle(r: Run): Promise<void> {
  const status = () => got(`${r.hub.url}/users/${r.user}/workspace/status`, { headers: { authorization: `Bearer ${r.key}` } }).json<{ running?: boolean }>();
  await waitFor('the hub KB sync to be idle', async () => ((await status()).running ? undefined : true), 10 * 60_000, 200);
}

async function edits(r: Run, kbId: string): Promise<void> {
  const { ctx, n } = r;
  await idle(r);
  const lat = await measureKbEdits(ctx, r.s, kbId, r.hub.workspace(r.user), n);
  ctx.res.add(kbKeys(n).edit, 'youlab', lat, 'youlab hub: a note rewritten in the workspace folder (an agent write) until the KB lists that name with the new bytes (meta.file_hash), polled every 100 ms; the hub\'s own watcher (150 ms stability) and scheduler (a round once the workspace is quiet 100 ms, at most 1 s after the first change: its defaults) run the round; 3 s between edits');
  ctx.log(`  youlab KB changed file ${n} notes: ${msList(lat)} ms`);
}
