// The hub's HTTP API for the client, on `got`. Every non-2xx answer becomes a typed HubError
// (hub-errors.ts); 429 waits for Retry-After and tries again; downloads stream to a temp file that
// is verified before it may be renamed into place; uploads stream from the file with
// X-Content-SHA256.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { stat, unlink } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import got, { type Got, type Response } from 'got';
import { etagOf, HASH_PREFIX, parseEtag } from '../../shared/hash.ts';
import { encodePathForUrl } from '../../shared/paths.ts';
import {
  ChangesSchema,
  CONTENT_HASH_HEADER,
  FileListSchema,
  MeSchema,
  PutResultSchema,
  type Changes,
  type FileList,
  type Me,
  type PutResult,
  DEVICE_HEADER,
} from '../../shared/protocol.ts';
import { errorFrom, HubError, kindForStatus, toNetworkError } from './hub-errors.ts';
import { throttle } from './throttle.ts';
import { BULK_CONTENT_TYPE, BulkGetHeaderSchema, BulkPutResponseSchema, FrameReader, frame } from '../../shared/node/bulk-protocol.ts';
import { DeletedListSchema, KbRoundAnswerSchema, VersionListSchema, type HubDeletedList, type HubVersion } from './hub-answers.ts';
import { KbStatusSchema, type KbStatus } from '../../shared/kb-status.ts';

export { HubVersionSchema, type HubVersion, type HubDeletedList } from './hub-answers.ts';

export interface HubClientOptions {
  baseUrl: string;
  apiKey: string;
  /** This device's name, sent with every request so the hub records it as the `origin` of our changes. */
  device?: string;
  /** How many times a 429 is waited out before giving up on the request. */
  maxRateLimitRetries?: number;
  /** Upper bound on one Retry-After wait. */
  maxRetryAfterMs?: number;
  /** Bandwidth cap for transfers, bytes per second (0 = none). */
  bytesPerSecond?: number;
  signal?: AbortSignal;
  /** Called when a 429 is being waited out (for status display). */
  onRateLimited?: (waitMs: number) => void;
}

export interface DownloadResult {
  hash: string;
  size: number;
}

const TRANSFER_TIMEOUT = { lookup: 5_000, connect: 5_000, secureConnect: 5_000, socket: 30_000, send: 60_000, response: 30_000 };
const LIST_TIMEOUT = { ...TRANSFER_TIMEOUT, socket: 15 * 60_000, response: 15 * 60_000 };

export class HubClient {
  private readonly http: Got;
  private userId: string | undefined;

  constructor(private readonly opts: HubClientOptions) {
    this.http = got.extend({
      prefixUrl: opts.baseUrl.replace(/\/+$/, ''),
      headers: {
        authorization: `Bearer ${opts.apiKey}`,
        'user-agent': 'youlab-sync',
        ...(opts.device ? { [DEVICE_HEADER]: encodeURIComponent(opts.device) } : {}),
      },
      throwHttpErrors: false,
      retry: { limit: 0 },
      timeout: TRANSFER_TIMEOUT,
      followRedirect: false,
    });
  }

  async me(): Promise<Me> {
    const res = await this.request(() => this.http.get('me', { responseType: 'text', signal: this.opts.signal }));
    const me = MeSchema.parse(parseJson(res));
    if (me.user_id) this.userId = me.user_id;
    return me;
  }

  /** The user whose workspace this client syncs (from GET /me unless set). */
  async user(): Promise<string> {
    if (this.userId) return this.userId;
    const me = await this.me();
    if (!me.user_id) throw new HubError('protocol', 'this key is a service key; a user key is needed to sync a folder');
    return me.user_id;
  }

  setUser(userId: string): void {
    this.userId = userId;
  }

  async list(): Promise<FileList> {
    const r = await this.listIfChanged();
    if ('notModified' in r) throw new HubError('protocol', 'the hub answered 304 to an unconditional listing');
    return r;
  }

  /**
   * The listing, or `{notModified}` when `cleanCursor` is given and the hub answers 304: nothing
   * was announced in the feed after that cursor and the hub vouches for its view (server/README.md,
   * "Listing"). A hub that does not know conditional listings answers 200 as before.
   */
  async listIfChanged(cleanCursor?: string): Promise<FileList | { notModified: true; cursor: string }> {
    const u = await this.user();
    const headers: Record<string, string> = cleanCursor ? { 'if-none-match': `"${cleanCursor}"` } : {};
    const res = await this.withRateLimit(async () => {
      let r: Response<string>;
      try {
        // The hub answers once it has stat'ed (and, the first time, hashed) every file: 100,000
        // files take minutes to hash, so the listing gets LIST_TIMEOUT, not the transfer timeout.
        r = await this.http.get(`users/${encodeURIComponent(u)}/workspace/files`, { headers, responseType: 'text', timeout: LIST_TIMEOUT, signal: this.opts.signal });
      } catch (e) {
        throw toNetworkError(e);
      }
      if (r.statusCode === 304 && cleanCursor) return r;
      if (r.statusCode >= 300) throw errorFrom(r.statusCode, r.body, r.headers['retry-after']);
      return r;
    });
    if (res.statusCode === 304) return { notModified: true, cursor: cleanCursor! };
    return FileListSchema.parse(parseJson(res));
  }

  async changes(since: string, waitSeconds: number, signal?: AbortSignal): Promise<Changes> {
    const u = await this.user();
    const res = await this.request(() =>
      this.http.get(`users/${encodeURIComponent(u)}/workspace/changes`, {
        searchParams: { since, wait: String(waitSeconds) },
        responseType: 'text',
        timeout: { ...TRANSFER_TIMEOUT, socket: (waitSeconds + 15) * 1000, response: (waitSeconds + 15) * 1000 },
        signal: signal ?? this.opts.signal,
      }),
    );
    return ChangesSchema.parse(parseJson(res));
  }

  /**
   * Stream a file into `tempPath`, hashing as it arrives. The caller renames it into place only
   * after checking the result; on any failure the temp file is removed.
   */
  async download(path: string, tempPath: string): Promise<DownloadResult> {
    const u = await this.user();
    const url = `users/${encodeURIComponent(u)}/workspace/files/${encodePathForUrl(path)}`;
    return this.withRateLimit(async () => {
      const stream = this.http.stream(url, { signal: this.opts.signal });
      const response = await new Promise<Response>((resolve, reject) => {
        stream.once('response', resolve);
        stream.once('error', reject);
      });
      if (response.statusCode >= 300) {
        const chunks: Buffer[] = [];
        for await (const c of stream) chunks.push(c as Buffer);
        throw errorFrom(response.statusCode, Buffer.concat(chunks).toString('utf8'), response.headers['retry-after']);
      }
      const hasher = createHash('sha256');
      let size = 0;
      const tap = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          hasher.update(chunk);
          size += chunk.length;
          cb(null, chunk);
        },
      });
      try {
        const stages: NodeJS.ReadWriteStream[] = [tap];
        if (this.opts.bytesPerSecond) stages.push(throttle(this.opts.bytesPerSecond));
        await pipeline(stream, ...(stages as [Transform]), createWriteStream(tempPath, { flags: 'wx', mode: 0o644 }));
      } catch (e) {
        await unlink(tempPath).catch(() => {}); // the transfer's error is the one to report; a leftover temp is removed at the next start
        throw toNetworkError(e);
      }
      const hash = HASH_PREFIX + hasher.digest('hex');
      const announced = parseEtag(firstHeader(response.headers.etag));
      if (announced && announced !== hash) {
        await unlink(tempPath).catch(() => {}); // a leftover temp is removed at the next start; the mismatch is the error to report
        throw new HubError('hash_mismatch', `download of ${path} hashed to ${hash}, the hub announced ${announced}`);
      }
      return { hash, size };
    });
  }

  /** Upload a file's bytes; `expect` is the hash the bytes must have (the hub verifies it too). */
  async upload(
    path: string,
    absFile: string,
    expect: string,
    precondition: { ifMatch: string } | { ifNoneMatch: true },
  ): Promise<PutResult> {
    const u = await this.user();
    const url = `users/${encodeURIComponent(u)}/workspace/files/${encodePathForUrl(path)}`;
    const size = (await stat(absFile)).size;
    // Chunked on purpose: a file that shrinks or grows while it is sent must end the request
    // cleanly, so the hub's hash check (400, nothing written) can reject it; a Content-Length
    // that no longer matches would hang the request instead.
    const headers: Record<string, string> = {
      'content-type': 'application/octet-stream',
      [CONTENT_HASH_HEADER]: expect,
    };
    if ('ifMatch' in precondition) headers['if-match'] = etagOf(precondition.ifMatch);
    else headers['if-none-match'] = '*';
    const res = await this.request(() => {
      const file = size === 0 ? Readable.from([]) : createReadStream(absFile, { end: size - 1 });
      const body = this.opts.bytesPerSecond ? file.pipe(throttle(this.opts.bytesPerSecond)) : file;
      return this.http.put(url, { body, headers, responseType: 'text', signal: this.opts.signal });
    });
    return PutResultSchema.parse(parseJson(res));
  }

  /**
   * Many small files in one request (shared/bulk-protocol.ts). Each entry is conditional and
   * hash-checked by the hub on its own; the answer is one result per entry, in order, with
   * `error` set the way a PUT of that file alone would have failed.
   */
  async bulkUpload(
    entries: readonly { path: string; bytes: Uint8Array; hash: string; precondition: { ifMatch: string } | { ifNoneMatch: true } }[],
  ): Promise<{ path: string; result?: PutResult; error?: HubError }[]> {
    const u = await this.user();
    const chunks: Buffer[] = [];
    for (const e of entries) {
      const header = { path: e.path, ...('ifMatch' in e.precondition ? { ifMatch: e.precondition.ifMatch } : { ifNoneMatch: true }), sha256: e.hash, size: e.bytes.length };
      chunks.push(...frame(header, e.bytes));
    }
    const body = Buffer.concat(chunks);
    const res = await this.request(() =>
      this.http.post(`users/${encodeURIComponent(u)}/workspace/bulk`, {
        body: this.opts.bytesPerSecond ? Readable.from([body]).pipe(throttle(this.opts.bytesPerSecond)) : body,
        headers: { 'content-type': BULK_CONTENT_TYPE },
        responseType: 'text',
        signal: this.opts.signal,
      }),
    );
    const { results } = BulkPutResponseSchema.parse(parseJson(res));
    return entries.map((e, i) => {
      const r = results[i];
      if (!r || r.path !== e.path) return { path: e.path, error: new HubError('protocol', 'the hub answered the bulk upload out of order') };
      if (r.status === 200 && r.hash) return { path: e.path, result: { path: r.path, hash: r.hash, size: r.size ?? 0, modified: r.modified ?? '' } };
      return { path: e.path, error: new HubError(kindForStatus(r.status, r.error), r.message ?? `HTTP ${r.status}`, r.status, r.error) };
    });
  }

  /** Many small files in one response; each is checked against the hash the hub sent with it. */
  async bulkGet(paths: readonly string[]): Promise<Map<string, { bytes: Buffer; hash: string } | HubError>> {
    const u = await this.user();
    const res = await this.withRateLimit(async () => {
      let r: Response<Buffer>;
      try {
        r = await this.http.post(`users/${encodeURIComponent(u)}/workspace/bulk-get`, { json: { paths }, responseType: 'buffer', signal: this.opts.signal });
      } catch (e) {
        throw toNetworkError(e);
      }
      if (r.statusCode >= 300) throw errorFrom(r.statusCode, r.body.toString('utf8'), r.headers['retry-after']);
      return r;
    });
    const out = new Map<string, { bytes: Buffer; hash: string } | HubError>();
    const reader = new FrameReader(Readable.from([res.body]));
    for (;;) {
      const raw = await reader.header().catch(() => undefined); // a broken frame ends the batch: paths not answered are fetched one by one
      if (raw === undefined) break;
      const h = BulkGetHeaderSchema.parse(raw);
      if (h.status !== 200 || !h.hash) {
        out.set(h.path, new HubError(kindForStatus(h.status, h.error), h.message ?? `HTTP ${h.status}`, h.status, h.error));
        continue;
      }
      const bytes = await reader.body(h.size ?? 0);
      const got = HASH_PREFIX + createHash('sha256').update(bytes).digest('hex');
      out.set(h.path, got === h.hash ? { bytes, hash: got } : new HubError('hash_mismatch', `bulk download of ${h.path} hashed to ${got}, the hub announced ${h.hash}`));
    }
    return out;
  }

  async remove(path: string, ifMatch: string): Promise<void> {
    const u = await this.user();
    const url = `users/${encodeURIComponent(u)}/workspace/files/${encodePathForUrl(path)}`;
    await this.request(() => this.http.delete(url, { headers: { 'if-match': etagOf(ifMatch) }, responseType: 'text', signal: this.opts.signal }));
  }

  /** Versions the hub kept of a path (overwritten or deleted content), newest first. */
  async versions(path: string): Promise<HubVersion[]> {
    const u = await this.user();
    const url = `users/${encodeURIComponent(u)}/workspace/versions/${encodePathForUrl(path)}`;
    const res = await this.request(() => this.http.get(url, { responseType: 'text', signal: this.opts.signal }));
    return VersionListSchema.parse(parseJson(res)).versions;
  }

  /** The hub's deleted files: each path the workspace no longer holds, with its kept versions. */
  async deleted(): Promise<HubDeletedList> {
    const u = await this.user();
    const res = await this.request(() => this.http.get(`users/${encodeURIComponent(u)}/workspace/deleted`, { responseType: 'text', signal: this.opts.signal }));
    return DeletedListSchema.parse(parseJson(res));
  }

  /** The first `maxBytes` of one kept version (a preview), and whether there was more. */
  async versionHead(path: string, versionId: string, maxBytes: number): Promise<{ bytes: Uint8Array; truncated: boolean }> {
    const u = await this.user();
    const url = `users/${encodeURIComponent(u)}/workspace/versions/${encodePathForUrl(path)}`;
    const res = await this.withRateLimit(async () => {
      let r: Response<Buffer>;
      try {
        r = await this.http.get(url, { searchParams: { version_id: versionId }, responseType: 'buffer', signal: this.opts.signal });
      } catch (e) {
        throw toNetworkError(e);
      }
      if (r.statusCode >= 300) throw errorFrom(r.statusCode, r.body.toString('utf8'), r.headers['retry-after']);
      return r;
    });
    return { bytes: res.body.subarray(0, maxBytes), truncated: res.body.length > maxBytes };
  }

  /** Puts a kept version back at its path on the hub; the replaced content is kept in turn. */
  async restore(path: string, versionId: string): Promise<PutResult> {
    const u = await this.user();
    const url = `users/${encodeURIComponent(u)}/workspace/versions/${encodePathForUrl(path)}/restore`;
    const res = await this.request(() =>
      this.http.post(url, { json: { version_id: versionId }, responseType: 'text', signal: this.opts.signal }),
    );
    return PutResultSchema.parse(parseJson(res));
  }

  /** The knowledge-base leg of this workspace (`GET .../status`), one page, optionally of some states only. */
  async kbStatus(query: { states?: readonly string[]; offset?: number; limit?: number } = {}): Promise<KbStatus> {
    const u = await this.user();
    const searchParams: Record<string, string | number> = {};
    if (query.states?.length) searchParams.state = query.states.join(',');
    if (query.offset !== undefined) searchParams.offset = query.offset;
    if (query.limit !== undefined) searchParams.limit = query.limit;
    const res = await this.request(() =>
      this.http.get(`users/${encodeURIComponent(u)}/workspace/status`, { searchParams, responseType: 'text', signal: this.opts.signal }),
    );
    return KbStatusSchema.parse(parseJson(res));
  }

  /**
   * Let the KB deletes through that the hub's mass-delete guard held in its last round (the
   * `held` files of kbStatus()): one KB round that carries them out. Its summary, or `running`
   * when the hub answered 202 and goes on by itself.
   */
  async confirmKbDeletes(): Promise<{ deleted: number; running: boolean; guard?: string }> {
    const u = await this.user();
    const res = await this.request(() =>
      this.http.post(`users/${encodeURIComponent(u)}/workspace/sync`, {
        json: { direction: 'bidirectional', confirm_deletes: true },
        responseType: 'text',
        signal: this.opts.signal,
        timeout: { ...TRANSFER_TIMEOUT, response: 60_000 },
      }),
    );
    if (res.statusCode === 202) return { deleted: 0, running: true };
    const s = KbRoundAnswerSchema.parse(parseJson(res));
    return { deleted: s.deleted_in_openwebui.length + s.deleted_in_workspace.length, running: false, ...(s.guard ? { guard: s.guard } : {}) };
  }

  private async request(send: () => Promise<Response<string>>): Promise<Response<string>> {
    return this.withRateLimit(async () => {
      let res: Response<string>;
      try {
        res = await send();
      } catch (e) {
        throw toNetworkError(e);
      }
      if (res.statusCode >= 300) throw errorFrom(res.statusCode, res.body, res.headers['retry-after']);
      return res;
    });
  }

  private async withRateLimit<T>(fn: () => Promise<T>): Promise<T> {
    const max = this.opts.maxRateLimitRetries ?? 5;
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (e) {
        if (!(e instanceof HubError) || e.kind !== 'rate_limited' || attempt >= max) throw e;
        const wait = Math.min(e.retryAfterMs ?? 1000, this.opts.maxRetryAfterMs ?? 120_000);
        this.opts.onRateLimited?.(wait);
        await sleep(wait, undefined, { signal: this.opts.signal });
      }
    }
  }
}

function firstHeader(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function parseJson(res: Response<string>): unknown {
  try {
    return JSON.parse(res.body);
  } catch {
    throw new HubError('protocol', `the hub answered ${res.statusCode} with a body that is not JSON`);
  }
}
