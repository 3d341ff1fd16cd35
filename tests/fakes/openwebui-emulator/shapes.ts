// The shapes of Open WebUI's answers to the calls the hub makes: one fixed walk over the routes
// (`probeShapes`), reduced to status, body kind and the keys with their JSON types. Recorded from
// real releases into fixtures/<version>.json by the contract suite (YOULAB_RECORD_FIXTURES=1),
// compared with the emulator's answers by tests/unit/openwebui-emulator-drift.test.ts, so a drift
// of the emulator from the real releases fails a unit test. Only shapes are kept, never the
// releases' own text or pages.
import { fileURLToPath } from 'node:url';
import got from 'got';

export type Sketch = string | { [key: string]: Sketch } | Sketch[];

export interface Exchange {
  /** What was asked, ids left out ("GET /api/v1/knowledge/{id}/files"). */
  call: string;
  status: number;
  kind: 'json' | 'html' | 'text';
  /** JSON: keys and types; HTML: the page's title; text: its length class. */
  shape: Sketch;
}

export interface Recording {
  version: string;
  exchanges: Exchange[];
}

/** Where the recording of a release lives. */
export function fixtureFile(version: string): string {
  return fileURLToPath(new URL(`./fixtures/${version}.json`, import.meta.url));
}

/** Keys and JSON types of a value; arrays by their first element (an empty one: []). */
export function sketch(v: unknown): Sketch {
  if (v === null) return 'null';
  if (Array.isArray(v)) return v.length === 0 ? [] : [sketch(v[0])];
  if (typeof v === 'object') {
    const out: Record<string, Sketch> = {};
    for (const k of Object.keys(v as object).sort()) out[k] = sketch((v as Record<string, unknown>)[k]);
    return out;
  }
  return typeof v;
}

/**
 * How `emulated` differs from `real` (empty: it does not): a key the real answer lacks, or of
 * another type. Keys only the real answer has are fine: the emulator answers what the hub reads.
 */
export function drift(real: Sketch, emulated: Sketch, at = '$'): string[] {
  if (typeof real === 'string' || typeof emulated === 'string') {
    // `null` in one and a value in the other is a value the release may or may not fill yet.
    if (real === emulated || real === 'null' || emulated === 'null') return [];
    return [`${at}: ${JSON.stringify(emulated)} where the release answers ${JSON.stringify(real)}`];
  }
  if (Array.isArray(real) || Array.isArray(emulated)) {
    if (!Array.isArray(real) || !Array.isArray(emulated)) return [`${at}: ${Array.isArray(emulated) ? 'a list' : 'an object'} where the release answers ${Array.isArray(real) ? 'a list' : 'an object'}`];
    if (real.length === 0 || emulated.length === 0) return [];
    return drift(real[0]!, emulated[0]!, `${at}[0]`);
  }
  const out: string[] = [];
  for (const k of Object.keys(emulated)) {
    if (!(k in real)) out.push(`${at}.${k}: the release has no such key`);
    else out.push(...drift(real[k]!, emulated[k]!, `${at}.${k}`));
  }
  return out;
}

/** The differences of a whole walk (see drift), call by call. */
export function recordingDrift(real: Recording, emulated: Recording): string[] {
  const out: string[] = [];
  for (const r of real.exchanges) {
    const e = emulated.exchanges.find((x) => x.call === r.call);
    if (!e) {
      out.push(`${r.call}: not asked of the emulator`);
      continue;
    }
    if (e.status !== r.status || e.kind !== r.kind) {
      out.push(`${r.call}: ${e.status} ${e.kind} where the release answers ${r.status} ${r.kind}`);
      continue;
    }
    if (r.kind === 'json') out.push(...drift(r.shape, e.shape).map((d) => `${r.call} ${d}`));
  }
  return out;
}

/**
 * The walk: as the admin (`apiKey`), the calls the hub makes, in the order a first round makes
 * them, and the routes some releases lack. Leaves a KB and a file behind.
 */
export async function probeShapes(url: string, apiKey: string): Promise<Recording> {
  const http = got.extend({ prefixUrl: url, headers: { authorization: `Bearer ${apiKey}` }, throwHttpErrors: false, retry: { limit: 0 } });
  const exchanges: Exchange[] = [];
  const ask = async (call: string, path: string, options: Record<string, unknown> = {}): Promise<unknown> => {
    const method = call.split(' ')[0]!;
    const r = await http(path, { method, ...options } as never) as unknown as { statusCode: number; body: string; headers: Record<string, string> };
    const type = String(r.headers['content-type'] ?? '');
    if (type.includes('json')) {
      const body: unknown = JSON.parse(r.body);
      exchanges.push({ call, status: r.statusCode, kind: 'json', shape: sketch(body) });
      return body;
    }
    if (type.includes('html')) {
      exchanges.push({ call, status: r.statusCode, kind: 'html', shape: /<title[^>]*>([^<]*)</i.exec(r.body)?.[1]?.trim() ?? '' });
      return undefined;
    }
    exchanges.push({ call, status: r.statusCode, kind: 'text', shape: r.body.length > 0 ? 'bytes' : 'empty' });
    return undefined;
  };
  const version = ((await ask('GET /api/version', 'api/version')) as { version: string }).version;
  const kb = (await ask('POST /api/v1/knowledge/create', 'api/v1/knowledge/create', {
    json: { name: `shapes-${Date.now()}`, description: '', access_grants: [], access_control: {} },
  })) as { id: string };
  await ask('GET /api/v1/knowledge/', 'api/v1/knowledge/', { searchParams: { page: 1 } });
  const form = new FormData();
  form.append('file', new Blob(['# Shapes\nThe okapi lives in the forest.\n'], { type: 'text/markdown' }), 'shapes.md');
  form.append('metadata', JSON.stringify({ path: 'notes/shapes.md', uploaded_by: 'youlab-hub' }));
  const file = (await ask('POST /api/v1/files/', 'api/v1/files/', { body: form })) as { id: string };
  for (let i = 0; i < 300; i++) {
    const r = await http(`api/v1/files/${file.id}/process/status`);
    if (!String(r.headers['content-type']).includes('json')) break;
    if (['completed', 'failed'].includes((JSON.parse(r.body) as { status?: string }).status ?? '')) break;
    await new Promise((res) => setTimeout(res, 100));
  }
  await ask('GET /api/v1/files/{id}/process/status', `api/v1/files/${file.id}/process/status`);
  await ask('GET /api/v1/files/{id}', `api/v1/files/${file.id}`);
  await ask('POST /api/v1/knowledge/{id}/file/add', `api/v1/knowledge/${kb.id}/file/add`, { json: { file_id: file.id } });
  await ask('GET /api/v1/knowledge/{id}', `api/v1/knowledge/${kb.id}`);
  await ask('GET /api/v1/knowledge/{id}/files', `api/v1/knowledge/${kb.id}/files`, {
    searchParams: { page: 1, limit: 500, order_by: 'created_at', direction: 'asc' },
  });
  await ask('POST /api/v1/knowledge/{id}/files/batch/add', `api/v1/knowledge/${kb.id}/files/batch/add`, { json: [] });
  await ask('GET /api/v1/files/search', 'api/v1/files/search', { searchParams: { filename: 'shapes.md', content: false } });
  await ask('GET /api/v1/files/{id}/content', `api/v1/files/${file.id}/content`);
  await ask('GET /api/v1/no-such-route', 'api/v1/no-such-route');
  await ask('POST /api/v1/retrieval/query/collection', 'api/v1/retrieval/query/collection', {
    json: { collection_names: [kb.id], query: 'okapi forest', k: 2 },
  });
  return { version, exchanges };
}
