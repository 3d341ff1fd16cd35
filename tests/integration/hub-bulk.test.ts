// Bulk transfer routes of the real hub (shared/bulk-protocol.ts): many small files per request,
// each conditional, hash-checked and atomic on its own, with a result per file.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BULK_CONTENT_TYPE, FrameReader, frame } from '../../shared/node/bulk-protocol.ts';
import { auth, startHub, type HubHandle } from '../helpers/hub.ts';

const sha = (s: string | Buffer): string => 'sha256:' + createHash('sha256').update(s).digest('hex');

interface Entry {
  path: string;
  body: string | Buffer;
  ifMatch?: string;
  ifNoneMatch?: true;
  sha256?: string;
  size?: number;
}

function bulkBody(entries: Entry[]): Buffer {
  const chunks: Buffer[] = [];
  for (const e of entries) {
    const bytes = Buffer.from(e.body);
    const header = {
      path: e.path,
      ...(e.ifMatch ? { ifMatch: e.ifMatch } : {}),
      ...(e.ifNoneMatch ? { ifNoneMatch: true } : {}),
      sha256: e.sha256 ?? sha(bytes),
      size: e.size ?? bytes.length,
    };
    chunks.push(...frame(header, bytes));
  }
  return Buffer.concat(chunks);
}

let hub: HubHandle;
let key: string;
let small: HubHandle;
let smallKey: string;
const base = (h = hub): string => `${h.url}/users/alice/workspace`;
const ws = (h = hub): string => join(h.dataDir, 'alice', 'workspace');

async function bulk(entries: Entry[] | Buffer, h = hub, k = key): Promise<{ status: number; body: { results: { path: string; status: number; error?: string; hash?: string }[]; error?: string } }> {
  const r = await fetch(`${base(h)}/bulk`, {
    method: 'POST',
    headers: { ...auth(k), 'content-type': BULK_CONTENT_TYPE },
    body: new Uint8Array(Buffer.isBuffer(entries) ? entries : bulkBody(entries)),
  });
  return { status: r.status, body: (await r.json()) as never };
}

beforeAll(async () => {
  hub = await startHub({ env: { RALPH_RATE_LIMIT_TRANSFER_PER_MIN: '20' } });
  key = await hub.createKey('alice');
  small = await startHub({ env: { RALPH_MAX_FILE_BYTES: '100', RALPH_MAX_WORKSPACE_BYTES: '1000' } });
  smallKey = await small.createKey('alice');
});
afterAll(async () => {
  await hub?.stop();
  await small?.stop();
});

describe('POST /bulk', () => {
  it('applies every valid entry and answers per entry: 412, bad path, hash mismatch, missing precondition', async () => {
    await mkdir(ws(), { recursive: true });
    await writeFile(join(ws(), 'exists.txt'), 'old');
    const r = await bulk([
      { path: 'a/one.txt', body: 'one', ifNoneMatch: true },
      { path: 'exists.txt', body: 'new', ifNoneMatch: true },
      { path: '../escape.txt', body: 'x', ifNoneMatch: true },
      { path: 'liar.txt', body: 'real bytes', sha256: sha('other bytes'), ifNoneMatch: true },
      { path: 'noprecondition.txt', body: 'x' },
      { path: 'a/two.txt', body: 'two', ifNoneMatch: true },
      { path: 'exists.txt', body: 'replaced', ifMatch: sha('wrong') },
    ]);
    expect(r.status).toBe(200);
    expect(r.body.results.map((x) => [x.path, x.status, x.error])).toEqual([
      ['a/one.txt', 200, undefined],
      ['exists.txt', 412, 'precondition_failed'],
      ['../escape.txt', 400, 'bad_path'],
      ['liar.txt', 400, 'hash_mismatch'],
      ['noprecondition.txt', 428, 'precondition_required'],
      ['a/two.txt', 200, undefined],
      ['exists.txt', 412, 'precondition_failed'],
    ]);
    expect(r.body.results[0]!.hash).toBe(sha('one'));
    expect(await readFile(join(ws(), 'a/one.txt'), 'utf8')).toBe('one');
    expect(await readFile(join(ws(), 'a/two.txt'), 'utf8')).toBe('two');
    expect(await readFile(join(ws(), 'exists.txt'), 'utf8')).toBe('old');
    expect(existsSync(join(ws(), 'liar.txt'))).toBe(false);
    expect(existsSync(join(ws(), 'noprecondition.txt'))).toBe(false);
    expect(existsSync(join(hub.dataDir, 'alice', 'escape.txt'))).toBe(false);

    // If-Match with the right hash replaces; the change feed announces each file.
    const again = await bulk([{ path: 'exists.txt', body: 'replaced', ifMatch: sha('old') }]);
    expect(again.body.results[0]).toMatchObject({ status: 200, hash: sha('replaced') });
    expect(await readFile(join(ws(), 'exists.txt'), 'utf8')).toBe('replaced');
  });

  it('413 and 507 per entry, the rest of the batch applied', async () => {
    const r = await bulk(
      [
        { path: 'ok.txt', body: 'fine', ifNoneMatch: true },
        { path: 'big.txt', body: Buffer.alloc(200, 1), ifNoneMatch: true },
        { path: 'fill1.txt', body: Buffer.alloc(100, 2), ifNoneMatch: true },
        ...Array.from({ length: 12 }, (_, i) => ({ path: `fill/${i}.bin`, body: Buffer.alloc(90, i), ifNoneMatch: true as const })),
        { path: 'after.txt', body: 'x', ifNoneMatch: true },
      ],
      small,
      smallKey,
    );
    expect(r.status).toBe(200);
    const by = new Map(r.body.results.map((x) => [x.path, x]));
    expect(by.get('ok.txt')?.status).toBe(200);
    expect(by.get('big.txt')).toMatchObject({ status: 413, error: 'too_large' });
    expect(r.body.results.some((x) => x.status === 507 && x.error === 'quota_exceeded')).toBe(true);
    expect(existsSync(join(ws(small), 'big.txt'))).toBe(false);
    expect(await readFile(join(ws(small), 'ok.txt'), 'utf8')).toBe('fine');
    // Entries refused for quota wrote nothing.
    for (const x of r.body.results.filter((y) => y.status === 507)) expect(existsSync(join(ws(small), x.path))).toBe(false);
    // A 1-byte file still fits after the quota refusals.
    expect(by.get('after.txt')?.status).toBe(200);
  });

  it('a truncated body is answered 400 with the entries applied before it, and nothing partial written', async () => {
    const body = bulkBody([
      { path: 'trunc/first.txt', body: 'first', ifNoneMatch: true },
      { path: 'trunc/second.txt', body: 'second file', ifNoneMatch: true },
    ]);
    const r = await bulk(body.subarray(0, body.length - 4));
    expect(r.status).toBe(400);
    expect(r.body.error).toBe('bad_request');
    expect(r.body.results.map((x) => [x.path, x.status])).toEqual([['trunc/first.txt', 200]]);
    expect(existsSync(join(ws(), 'trunc/second.txt'))).toBe(false);
  });
});

describe('POST /bulk-get', () => {
  it('returns each file with its hash, and a per-file 404 / 400', async () => {
    const r = await fetch(`${base()}/bulk-get`, {
      method: 'POST',
      headers: { ...auth(key), 'content-type': 'application/json' },
      body: JSON.stringify({ paths: ['a/one.txt', 'missing.txt', 'a/two.txt', '../x'] }),
    });
    expect(r.status).toBe(200);
    const reader = new FrameReader(Readable.from([Buffer.from(await r.arrayBuffer())]));
    const got: [string, number, string | undefined][] = [];
    for (;;) {
      const h = (await reader.header()) as { path: string; status: number; size?: number; hash?: string } | undefined;
      if (!h) break;
      const bytes = h.status === 200 ? await reader.body(h.size!) : undefined;
      if (bytes) expect(sha(bytes)).toBe(h.hash);
      got.push([h.path, h.status, bytes?.toString('utf8')]);
    }
    expect(got).toEqual([
      ['a/one.txt', 200, 'one'],
      ['missing.txt', 404, undefined],
      ['a/two.txt', 200, 'two'],
      ['../x', 400, undefined],
    ]);
  });
});

describe('rate limit accounting', () => {
  it('a bulk request of many files counts as one request against the transfer budget', async () => {
    const fresh = await startHub({ env: { RALPH_RATE_LIMIT_TRANSFER_PER_MIN: '3' } });
    try {
      const k = await fresh.createKey('alice');
      for (let n = 0; n < 3; n++) {
        const entries = Array.from({ length: 50 }, (_, i) => ({ path: `r${n}/f${i}.txt`, body: `${n}-${i}`, ifNoneMatch: true as const }));
        const r = await bulk(entries, fresh, k);
        expect(r.status).toBe(200);
        expect(r.body.results.every((x) => x.status === 200)).toBe(true);
      }
      const over = await fetch(`${base(fresh)}/bulk`, { method: 'POST', headers: { ...auth(k), 'content-type': BULK_CONTENT_TYPE }, body: new Uint8Array(bulkBody([{ path: 'late.txt', body: 'x', ifNoneMatch: true }])) });
      expect(over.status).toBe(429);
      expect(existsSync(join(ws(fresh), 'late.txt'))).toBe(false);
      expect(existsSync(join(ws(fresh), 'r2/f49.txt'))).toBe(true);
    } finally {
      await fresh.stop();
    }
  });
});
