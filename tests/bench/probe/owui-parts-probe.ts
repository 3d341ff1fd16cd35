// Developer probe (not part of `npm run bench`): what each way of putting files into a KB costs on a
// REAL Open WebUI, without the hub: upload processed in the background + polling, processed inside
// the request, auto-linked by `metadata.knowledge_id`, added one by one or in batches, 1 or 4 at a
// time. Each way gets a fresh KB and the same N distinct markdown notes.
//
//   node --import tsx tests/bench/probe/owui-parts-probe.ts [files=100] [ways=all]
import got, { type Got } from 'got';
import { startRealOpenWebUI } from '../../helpers/openwebui.ts';

const N = Number(process.argv[2] ?? 100);
const WAYS = process.argv[3]?.split(',');
const t = (): number => performance.now();

function note(i: number, salt: string): string {
  const lines = [`# Note ${i} ${salt}`];
  for (let l = 0; lines.join('\n').length < 2048 + ((i * 7919) % 4096); l++) lines.push(`Line ${l} of note ${i} ${salt}: word${(i * 31 + l) % 997} ${i * 1000 + l}.`);
  return lines.join('\n') + '\n';
}

async function pool<T>(items: T[], width: number, fn: (x: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

type Way = (api: Got, kb: string, bodies: string[]) => Promise<Record<string, number>>;

function form(body: string, i: number, meta: Record<string, unknown>): FormData {
  const f = new FormData();
  f.append('file', new Blob([body], { type: 'text/markdown' }), `note-${i}.md`);
  f.append('metadata', JSON.stringify(meta));
  return f;
}

const upload = (api: Got, body: string, i: number, meta: Record<string, unknown>, background: boolean) =>
  api.post('api/v1/files/', { body: form(body, i, meta), searchParams: { process: true, process_in_background: background } }).json<{ id: string }>();

async function status(api: Got, id: string): Promise<string> {
  return (await api(`api/v1/files/${id}/process/status`).json<{ status: string }>()).status;
}

function timer(): { add: (k: string, since: number) => void; out: Record<string, number> } {
  const out: Record<string, number> = {};
  return { out, add: (k, since) => void (out[k] = (out[k] ?? 0) + (t() - since)) };
}

const ways: Record<string, Way> = {
  // Today's hub: background processing, poll from 200 ms, then file/add, one at a time.
  async 'bg+poll200+add x1'(api, kb, bodies) {
    const tm = timer();
    for (const [i, b] of bodies.entries()) {
      let s = t();
      const { id } = await upload(api, b, i, {}, true);
      tm.add('upload', s);
      s = t();
      let wait = 200;
      while (!['completed', 'failed'].includes(await status(api, id))) {
        await new Promise((r) => setTimeout(r, wait));
        wait = Math.min(wait * 1.5, 1000);
      }
      tm.add('wait', s);
      s = t();
      await api.post(`api/v1/knowledge/${kb}/file/add`, { json: { file_id: id } });
      tm.add('add', s);
    }
    return tm.out;
  },
  // Processed inside the request, one status read, then file/add.
  async 'sync+add x1'(api, kb, bodies) {
    const tm = timer();
    for (const [i, b] of bodies.entries()) {
      let s = t();
      const { id } = await upload(api, b, i, {}, false);
      tm.add('upload(processed)', s);
      s = t();
      await status(api, id);
      tm.add('status', s);
      s = t();
      await api.post(`api/v1/knowledge/${kb}/file/add`, { json: { file_id: id } });
      tm.add('add', s);
    }
    return tm.out;
  },
  // Processed and auto-linked inside the request, one status read.
  async 'sync+autolink x1'(api, kb, bodies) {
    const tm = timer();
    for (const [i, b] of bodies.entries()) {
      let s = t();
      const { id } = await upload(api, b, i, { knowledge_id: kb }, false);
      tm.add('upload(processed+linked)', s);
      s = t();
      await status(api, id);
      tm.add('status', s);
    }
    return tm.out;
  },
  async 'sync+autolink x4'(api, kb, bodies) {
    const tm = timer();
    await pool([...bodies.entries()], 4, async ([i, b]) => {
      let s = t();
      const { id } = await upload(api, b, i, { knowledge_id: kb }, false);
      tm.add('upload(processed+linked)', s);
      s = t();
      await status(api, id);
      tm.add('status', s);
    });
    return tm.out;
  },
  async 'sync+autolink x8'(api, kb, bodies) {
    const tm = timer();
    await pool([...bodies.entries()], 8, async ([i, b]) => {
      const s = t();
      const { id } = await upload(api, b, i, { knowledge_id: kb }, false);
      await status(api, id);
      tm.add('upload+status', s);
    });
    return tm.out;
  },
  // Processed inside the request (4 at a time), then batch add in batches of 50.
  async 'sync x4 + batch add 50'(api, kb, bodies) {
    const tm = timer();
    const ids: string[] = [];
    await pool([...bodies.entries()], 4, async ([i, b]) => {
      const s = t();
      ids.push((await upload(api, b, i, {}, false)).id);
      tm.add('upload(processed)', s);
    });
    for (let k = 0; k < ids.length; k += 50) {
      const s = t();
      await api.post(`api/v1/knowledge/${kb}/files/batch/add`, { json: ids.slice(k, k + 50).map((file_id) => ({ file_id })) });
      tm.add('batch add', s);
    }
    return tm.out;
  },
  // Uploaded unprocessed, then processed by /retrieval/process/file (the id is known first).
  async 'raw+process x4 + batch add 50'(api, kb, bodies) {
    const tm = timer();
    const ids: string[] = [];
    await pool([...bodies.entries()], 4, async ([i, b]) => {
      let s = t();
      const f = form(b, i, {});
      const { id } = await api.post('api/v1/files/', { body: f, searchParams: { process: false } }).json<{ id: string }>();
      tm.add('upload(unprocessed)', s);
      s = t();
      await api.post('api/v1/retrieval/process/file', { json: { file_id: id } });
      tm.add('process/file', s);
      ids.push(id);
    });
    for (let k = 0; k < ids.length; k += 50) {
      const s = t();
      await api.post(`api/v1/knowledge/${kb}/files/batch/add`, { json: ids.slice(k, k + 50).map((file_id) => ({ file_id })) });
      tm.add('batch add', s);
    }
    return tm.out;
  },
  // oikb's way: auto-link, processed in the background, one at a time, then wait for the listing.
  async 'bg+autolink x1 (oikb)'(api, kb, bodies) {
    const tm = timer();
    let s = t();
    for (const [i, b] of bodies.entries()) await upload(api, b, i, { knowledge_id: kb }, true);
    tm.add('uploads', s);
    s = t();
    for (;;) {
      const r = await api(`api/v1/knowledge/${kb}/files`, { searchParams: { page: 1, limit: 1000 } }).json<{ total: number }>();
      if (r.total >= bodies.length) break;
      await new Promise((res) => setTimeout(res, 50));
    }
    tm.add('until listed', s);
    return tm.out;
  },
};

const target = await startRealOpenWebUI();
console.log(`Open WebUI ${target.version}; ${N} files per way`);
const api = got.extend({ prefixUrl: target.url, headers: { authorization: `Bearer ${target.adminApiKey}` }, retry: { limit: 0 } });
try {
  // Warm up (first embedding call, first collection).
  const warm = await api.post('api/v1/knowledge/create', { json: { name: 'warm', description: '', access_grants: [] } }).json<{ id: string }>();
  await ways['sync+autolink x1']!(api, warm.id, [note(0, 'warm'), note(1, 'warm')]);
  for (const [name, way] of Object.entries(ways)) {
    if (WAYS && !WAYS.some((w) => name.startsWith(w))) continue;
    const kb = await api.post('api/v1/knowledge/create', { json: { name, description: '', access_grants: [] } }).json<{ id: string }>();
    const bodies = Array.from({ length: N }, (_, i) => note(i, name));
    const s = t();
    const parts = await way(api, kb.id, bodies);
    const wall = t() - s;
    const listed = (await api(`api/v1/knowledge/${kb.id}/files`, { searchParams: { page: 1, limit: 1000 } }).json<{ total: number }>()).total;
    const per = Object.entries(parts).map(([k, v]) => `${k} ${(v / N).toFixed(0)}`).join(', ');
    console.log(`${name.padEnd(32)} ${(wall / 1000).toFixed(1).padStart(6)} s  ${(wall / N).toFixed(0).padStart(4)} ms/file  listed ${listed}  (summed ms/file: ${per})`);
  }
} finally {
  await target.stop();
}
