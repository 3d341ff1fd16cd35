// Open WebUI targets for the contract and KB tests: the in-process emulator, or a REAL Open WebUI
// from the venv that scripts/openwebui-install.sh made, started offline on 127.0.0.1 with a fresh
// DATA_DIR and the tiny embeddings server. Also a plain folder-backed WorkspaceStore for driving
// the KB sync classes without a hub.
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdtemp, mkdir, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import got from 'got';
import { writeFileAtomic } from '../../shared/node/atomic-fs.ts';
import { hashBytes } from '../../shared/node/hash.ts';
import type { Change, FileEntry, PutResult } from '../../shared/protocol.ts';
import { StoreError } from '../../server/store-error.ts';
import type { DeleteOptions, WorkspaceStore, WriteOptions } from '../../server/workspace/types.ts';
import { startEmbeddingsServer, type EmbeddingsServer } from '../fakes/embeddings-server.ts';
import { startEmulator, type OpenWebUIEmulator } from '../fakes/openwebui-emulator/index.ts';
import { startHub, type HubHandle } from './hub.ts';

export interface OwuiUserHandle {
  id: string;
  email: string;
  /** A session token of that user (what the web UI uses). */
  token: string;
}

export interface OpenWebUITarget {
  kind: 'emulator' | 'real';
  url: string;
  version: string;
  /** API key of the admin: the hub's service key. */
  adminApiKey: string;
  createUser(name: string): Promise<OwuiUserHandle>;
  /** Set only for the emulator: fault injection and request log. */
  emulator?: OpenWebUIEmulator;
  /** Make file processing take at least this long (emulator: its delay; real: slow embeddings). */
  setProcessingDelay(ms: number): void;
  /** Milliseconds from spawn to a healthy /health (real only). */
  startupMs?: number;
  stop(): Promise<void>;
}

const CACHE = join(homedir(), '.cache', 'youlab-sync');
export const OPENWEBUI_VENV = process.env.OPENWEBUI_VENV ?? join(CACHE, 'openwebui-venv');
/** The oldest supported release, which `npm test` also runs for real (scripts/openwebui-install.sh 0.6.30). */
export const OLDEST_OPENWEBUI_VENV = join(CACHE, 'openwebui-0.6.30-venv');

/**
 * The real Open WebUI venvs the contract suite runs against: `YOULAB_OPENWEBUI_VENVS` (a
 * colon-separated list; scripts/contract-matrix.sh sets one at a time), else the latest
 * (OPENWEBUI_VENV) and the oldest supported release.
 */
export function realOpenWebUIVenvs(): string[] {
  const list = process.env.YOULAB_OPENWEBUI_VENVS;
  if (list) return list.split(':').filter(Boolean);
  return [OPENWEBUI_VENV, OLDEST_OPENWEBUI_VENV];
}

export function realOpenWebUIInstalled(venv = OPENWEBUI_VENV): boolean {
  return existsSync(join(venv, 'bin', 'open-webui'));
}

/** 'required' (CI): a real Open WebUI that cannot start fails the suite instead of skipping. */
export function realOpenWebUIRequired(): boolean {
  return process.env.YOULAB_REAL_OPENWEBUI === 'required';
}

export async function startEmulatorTarget(): Promise<OpenWebUITarget> {
  return emulatorTarget(await startEmulator());
}

/** A target view of a running emulator (stop() stops it). */
export function emulatorTarget(emu: OpenWebUIEmulator): OpenWebUITarget {
  let n = 0;
  return {
    kind: 'emulator',
    url: emu.url,
    version: emu.version,
    adminApiKey: emu.adminApiKey,
    emulator: emu,
    async createUser(name) {
      const u = emu.addUser(name, `${name.toLowerCase()}-${++n}@example.test`);
      return { id: u.id, email: u.email, token: emu.tokenFor(u) };
    },
    setProcessingDelay: (ms) => {
      emu.faults.processingDelayMs = ms;
    },
    stop: () => emu.stop(),
  };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** The settings that keep a real Open WebUI offline and on loopback (see docs/OPENWEBUI-API.md, "Running it offline on loopback"). */
export function offlineEnv(opts: { dataDir: string; port: number; embeddingsUrl: string }): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  // Start from a small, known environment: nothing of the parent's proxies, tokens or keys leaks in.
  for (const k of ['PATH', 'LANG', 'LC_ALL', 'TZ', 'SYSTEMROOT']) if (process.env[k]) env[k] = process.env[k];
  const blackhole = 'http://127.0.0.1:9'; // any outside HTTP that honours proxies fails at once, locally
  return {
    ...env,
    HOME: opts.dataDir,
    XDG_CACHE_HOME: join(opts.dataDir, 'cache'),
    HF_HOME: join(opts.dataDir, 'cache', 'hf'),
    DATA_DIR: opts.dataDir,
    PORT: String(opts.port),
    WEBUI_SECRET_KEY: `youlab-test-${Math.random().toString(36).slice(2)}`,
    WEBUI_ADMIN_EMAIL: 'admin@example.test',
    WEBUI_ADMIN_PASSWORD: 'admin-password-1',
    WEBUI_ADMIN_NAME: 'Admin',
    ENABLE_API_KEYS: 'true',
    USER_PERMISSIONS_FEATURES_API_KEYS: 'true',
    OFFLINE_MODE: 'true',
    HF_HUB_OFFLINE: '1',
    TRANSFORMERS_OFFLINE: '1',
    HF_HUB_DISABLE_TELEMETRY: '1',
    ENABLE_VERSION_UPDATE_CHECK: 'false',
    ANONYMIZED_TELEMETRY: 'false',
    DO_NOT_TRACK: 'true',
    SCARF_NO_ANALYTICS: 'true',
    ENABLE_OTEL: 'false',
    ENABLE_OLLAMA_API: 'false',
    ENABLE_OPENAI_API: 'false',
    ENABLE_WEB_SEARCH: 'false',
    ENABLE_IMAGE_GENERATION: 'false',
    ENABLE_CODE_INTERPRETER: 'false',
    RAG_EMBEDDING_ENGINE: 'openai',
    RAG_EMBEDDING_MODEL: 'hashed-bow',
    RAG_OPENAI_API_BASE_URL: opts.embeddingsUrl,
    RAG_OPENAI_API_KEY: 'x',
    RAG_RERANKING_MODEL: '',
    RAG_EMBEDDING_MODEL_AUTO_UPDATE: 'false',
    WHISPER_MODEL_AUTO_UPDATE: 'false',
    HTTP_PROXY: blackhole,
    HTTPS_PROXY: blackhole,
    http_proxy: blackhole,
    https_proxy: blackhole,
    NO_PROXY: '127.0.0.1,localhost',
    no_proxy: '127.0.0.1,localhost',
    GLOBAL_LOG_LEVEL: 'WARNING',
    PYTHONUNBUFFERED: '1',
  };
}

/**
 * Start the real Open WebUI once (per test file). Throws with the log tail when it does not come up.
 */
export async function startRealOpenWebUI(timeoutMs = 180_000, venv = OPENWEBUI_VENV): Promise<OpenWebUITarget> {
  if (!realOpenWebUIInstalled(venv)) throw new Error(`no Open WebUI in ${venv} (run scripts/openwebui-install.sh)`);
  const dataDir = await mkdtemp(join(tmpdir(), 'youlab-owui-'));
  let embeddings: EmbeddingsServer | undefined;
  let child: ChildProcess | undefined;
  const logFile = join(dataDir, 'open-webui.log');
  const cleanup = async (): Promise<void> => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((r) => child!.once('exit', () => r()));
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        /* already gone */
      }
      const t = setTimeout(() => {
        try {
          process.kill(-child!.pid!, 'SIGKILL');
        } catch {
          /* gone */
        }
      }, 10_000);
      await exited;
      clearTimeout(t);
    }
    await embeddings?.close();
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    embeddings = await startEmbeddingsServer();
    const port = await freePort();
    const env = offlineEnv({ dataDir, port, embeddingsUrl: embeddings.url });
    const started = Date.now();
    const out = createWriteStream(logFile);
    child = spawn(join(venv, 'bin', 'open-webui'), ['serve', '--host', '127.0.0.1', '--port', String(port)], {
      env,
      cwd: dataDir,
      detached: true, // own process group: stop() takes uvicorn's children too
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.pipe(out);
    child.stderr!.pipe(out);
    const url = `http://127.0.0.1:${port}`;
    await waitHealthy(url, child, timeoutMs, logFile);
    const startupMs = Date.now() - started;

    const adminToken = await adminSession(url, env);
    const key = await got
      .post(`${url}/api/v1/auths/api_key`, { headers: { authorization: `Bearer ${adminToken}` } })
      .json<{ api_key: string }>();
    const version = (await got(`${url}/api/version`).json<{ version: string }>()).version;
    let n = 0;
    return {
      kind: 'real',
      url,
      version,
      adminApiKey: key.api_key,
      startupMs,
      setProcessingDelay: (ms) => embeddings!.setDelay(ms),
      async createUser(name) {
        const email = `${name.toLowerCase()}-${++n}@example.test`;
        const u = await got
          .post(`${url}/api/v1/auths/add`, {
            headers: { authorization: `Bearer ${adminToken}` },
            json: { name, email, password: 'user-password-1', role: 'user' },
          })
          .json<{ id: string; token: string }>();
        return { id: u.id, email, token: u.token };
      },
      stop: cleanup,
    };
  } catch (e) {
    const tail = await readFile(logFile, 'utf8').then((t) => t.split('\n').slice(-40).join('\n')).catch(() => '');
    await cleanup();
    throw new Error(`real Open WebUI did not start: ${(e as Error).message}\n--- log tail ---\n${tail}`);
  }
}

/**
 * The admin's session token. Sign-in is rate limited: one per run, its token kept. Releases
 * before 0.7 do not make the admin from WEBUI_ADMIN_* at start: there the first sign-up is the admin.
 */
async function adminSession(url: string, env: NodeJS.ProcessEnv): Promise<string> {
  const creds = { email: env.WEBUI_ADMIN_EMAIL, password: env.WEBUI_ADMIN_PASSWORD };
  const signin = await got.post(`${url}/api/v1/auths/signin`, { json: creds, throwHttpErrors: false, retry: { limit: 0 } });
  if (signin.statusCode === 200) return (JSON.parse(signin.body) as { token: string }).token;
  const signup = await got
    .post(`${url}/api/v1/auths/signup`, { json: { ...creds, name: env.WEBUI_ADMIN_NAME } })
    .json<{ token: string; role: string }>();
  if (signup.role !== 'admin') throw new Error(`the first sign-up is ${signup.role}, not admin`);
  return signup.token;
}

async function waitHealthy(url: string, child: ChildProcess, timeoutMs: number, logFile: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  let exited: string | undefined;
  child.once('exit', (code, sig) => (exited = `exited with ${code ?? sig}`));
  while (Date.now() < until) {
    if (exited) throw new Error(`open-webui ${exited} (log: ${logFile})`);
    try {
      const r = await got(`${url}/health`, { timeout: { request: 2_000 }, retry: { limit: 0 } }).json<{ status?: boolean }>();
      if (r.status) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`no healthy /health within ${timeoutMs} ms`);
}

export interface KbFileView {
  id: string;
  filename: string;
  directory_path?: string;
  meta?: { data?: { path?: string } };
}

/** Requests as a given Open WebUI user (what the web UI would send). */
export function asUser(target: OpenWebUITarget, token: string) {
  const http = got.extend({ prefixUrl: target.url, headers: { authorization: `Bearer ${token}` }, retry: { limit: 0 } });
  return {
    async upload(name: string, content: string): Promise<string> {
      const form = new FormData();
      form.append('file', new Blob([content], { type: 'text/markdown' }), name);
      const r = await http.post('api/v1/files/', { body: form }).json<{ id: string }>();
      return r.id;
    },
    async waitProcessed(id: string, timeoutMs = 30_000): Promise<string> {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const s = await http(`api/v1/files/${id}/process/status`).json<{ status: string }>();
        // 0.12 also reports 'processing' between 'pending' and the end.
        if (s.status === 'completed' || s.status === 'failed' || Date.now() > until) return s.status;
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    async addToKnowledge(kbId: string, fileId: string, directoryId?: string): Promise<void> {
      await http.post(`api/v1/knowledge/${kbId}/file/add`, { json: { file_id: fileId, ...(directoryId ? { directory_id: directoryId } : {}) } });
    },
    async deleteDirectory(kbId: string, dirId: string, moveFiles = true): Promise<void> {
      await http.delete(`api/v1/knowledge/${kbId}/dirs/${dirId}/delete`, { searchParams: { move_files: moveFiles } });
    },
    async createDirectory(kbId: string, name: string, parentId: string | null = null): Promise<string> {
      const r = await http.post(`api/v1/knowledge/${kbId}/dirs/create`, { json: { name, parent_id: parentId } }).json<{ id: string }>();
      return r.id;
    },
    async removeFromKnowledge(kbId: string, fileId: string): Promise<void> {
      await http.post(`api/v1/knowledge/${kbId}/file/remove`, { json: { file_id: fileId } });
    },
    async deleteKnowledge(kbId: string): Promise<void> {
      await http.delete(`api/v1/knowledge/${kbId}/delete`);
    },
    /** The KB's files, every page (admins may ask for 1000 a page on 0.12.4, others get 30). */
    async knowledgeFiles(kbId: string): Promise<KbFileView[]> {
      const r = await http(`api/v1/knowledge/${kbId}/files`, {
        searchParams: { page: 1, limit: 1000, order_by: 'created_at', direction: 'asc' },
      });
      // Before 0.6.42 the route is missing (the web page answers): the KB record inlines its files.
      if (!String(r.headers['content-type']).includes('json')) {
        // Those carry no `filename`: `meta.name` is the same basename.
        const kb = await http(`api/v1/knowledge/${kbId}`).json<{ files: (KbFileView & { meta?: { name?: string } })[] | null }>();
        return (kb.files ?? []).map((f) => ({ ...f, filename: f.filename ?? f.meta?.name ?? '' }));
      }
      // Releases before 0.12 ignore `limit` and answer 30 a page: read on until `total`.
      const first = JSON.parse(r.body) as { items: KbFileView[]; total?: number };
      const items = [...first.items];
      for (let page = 2; items.length < (first.total ?? 0) && page < 1000; page++) {
        const next = await http(`api/v1/knowledge/${kbId}/files`, {
          searchParams: { page, limit: 1000, order_by: 'created_at', direction: 'asc' },
        }).json<{ items: KbFileView[] }>();
        if (next.items.length === 0) break;
        items.push(...next.items);
      }
      return items;
    },
    /** The KB's record (its description among it). */
    async knowledge(kbId: string): Promise<{ id: string; name: string; description: string; updated_at?: number }> {
      return http(`api/v1/knowledge/${kbId}`).json();
    },
    /** Edit the KB's name and description, as in the web UI. */
    async updateKnowledge(kbId: string, name: string, description: string): Promise<void> {
      await http.post(`api/v1/knowledge/${kbId}/update`, { json: { name, description } });
    },
    /** The folders directly under `parentId` (null: the KB's root). */
    async directories(kbId: string, parentId: string | null): Promise<{ id: string; name: string }[]> {
      const r = await http(`api/v1/knowledge/${kbId}/files`, { searchParams: { page: 1, directory_id: parentId ?? '' } }).json<{
        directories?: { id: string; name: string }[];
      }>();
      return r.directories ?? [];
    },
    async query(kbId: string, query: string): Promise<{ documents: string[][]; metadatas: Record<string, unknown>[][] }> {
      return http
        .post('api/v1/retrieval/query/collection', { json: { collection_names: [kbId], query, k: 5 } })
        .json();
    },
    /** Every file this caller can see (an admin sees everyone's). */
    async allFileIds(): Promise<string[]> {
      const ids: string[] = [];
      for (let page = 1; page < 100; page++) {
        const r = await http('api/v1/files/', { searchParams: { page } }).json<{ items: { id: string }[]; total: number } | { id: string }[]>();
        const items = Array.isArray(r) ? r : r.items;
        ids.push(...items.map((i) => i.id));
        if (Array.isArray(r) || items.length === 0 || ids.length >= r.total) break;
      }
      return ids;
    },
    async queryStatus(kbId: string, query: string): Promise<number> {
      const r = await http.post('api/v1/retrieval/query/collection', {
        json: { collection_names: [kbId], query, k: 5 },
        throwHttpErrors: false,
      });
      return r.statusCode;
    },
    /** Whether the caller gets the record at `path`: 0.6.30 answers a KB the caller may not read with 200 and `null`. */
    async sees(path: string): Promise<boolean> {
      const r = await http(path, { throwHttpErrors: false });
      return r.statusCode === 200 && r.body.trim() !== 'null';
    },
    async status(path: string): Promise<number> {
      const r = await http(path, { throwHttpErrors: false });
      return r.statusCode;
    },
  };
}

// ---- a folder-backed WorkspaceStore for driving the KB sync without a hub ----

/** `<root>/<user>/workspace` plus `<root>/<user>/state`; removed/replaced bytes go to `<user>/versions`. */
export function folderStore(root: string): WorkspaceStore & { changes: { user: string; change: Change }[] } {
  const emitter = new EventEmitter();
  const changes: { user: string; change: Change }[] = [];
  const ws = (u: string): string => join(root, u, 'workspace');
  const entryOf = async (u: string, path: string): Promise<FileEntry | undefined> => {
    try {
      const full = join(ws(u), path);
      const st = await stat(full);
      if (!st.isFile()) return undefined;
      const bytes = await readFile(full);
      return { path, hash: hashBytes(bytes), size: st.size, modified: st.mtime.toISOString() };
    } catch {
      return undefined;
    }
  };
  const keep = async (u: string, path: string): Promise<void> => {
    const dest = join(root, u, 'versions', `${Date.now()}-${Math.random().toString(36).slice(2)}`, path);
    await mkdir(dirname(dest), { recursive: true });
    await rename(join(ws(u), path), dest).catch(() => undefined);
  };
  const emit = (u: string, change: Change): void => {
    changes.push({ user: u, change });
    emitter.emit('change', u, change);
  };
  return {
    changes,
    async list(u) {
      const files: FileEntry[] = [];
      const walk = async (dir: string, prefix: string): Promise<void> => {
        let names: string[];
        try {
          names = await readdir(dir);
        } catch {
          return;
        }
        for (const n of names) {
          const rel = prefix ? `${prefix}/${n}` : n;
          const st = await stat(join(dir, n));
          if (st.isDirectory()) await walk(join(dir, n), rel);
          else if (st.isFile() && !n.endsWith('.youlab-tmp')) {
            const e = await entryOf(u, rel);
            if (e) files.push(e);
          }
        }
      };
      await walk(ws(u), '');
      return { cursor: String(changes.length), files };
    },
    stat: (u, path) => entryOf(u, path),
    async read(u, path) {
      const entry = await entryOf(u, path);
      if (!entry) throw new StoreError('not_found', path);
      return { entry, stream: Readable.from([await readFile(join(ws(u), path))]) };
    },
    async write(u, path, body, opts: WriteOptions): Promise<PutResult> {
      const bytes = body instanceof Uint8Array ? Buffer.from(body) : Buffer.concat(await body.toArray());
      const current = await entryOf(u, path);
      if (opts.ifNoneMatch && current) throw new StoreError('precondition_failed', 'exists');
      if (opts.ifMatch && current?.hash !== opts.ifMatch) throw new StoreError('precondition_failed', 'changed');
      const hash = hashBytes(bytes);
      if (opts.expectedHash && opts.expectedHash !== hash) throw new StoreError('hash_mismatch', 'hash');
      if (current) await keep(u, path);
      await writeFileAtomic(join(ws(u), path), bytes);
      const e = (await entryOf(u, path))!;
      emit(u, { path, hash, size: e.size, modified: e.modified, source: opts.source });
      return e;
    },
    async remove(u, path, opts: DeleteOptions) {
      const current = await entryOf(u, path);
      if (!current) throw new StoreError('not_found', path);
      if (opts.ifMatch && current.hash !== opts.ifMatch) throw new StoreError('precondition_failed', 'changed');
      await keep(u, path);
      await unlink(join(ws(u), path)).catch(() => undefined);
      emit(u, { path, hash: null, source: opts.source });
    },
    onChange(listener) {
      emitter.on('change', listener);
      return () => emitter.off('change', listener);
    },
    workspaceDir: ws,
    stateDir: (u) => join(root, u, 'state'),
    async users() {
      return readdir(root).catch(() => []);
    },
  };
}

/** Write into a user's workspace folder directly (as the agent would) and report it to listeners. */
export async function putFile(store: WorkspaceStore, user: string, path: string, content: string | Buffer): Promise<void> {
  const current = await store.stat(user, path);
  await store.write(user, path, Buffer.from(content), {
    ...(current ? { ifMatch: current.hash } : {}),
    source: 'agent',
  });
}

export async function deleteFile(store: WorkspaceStore, user: string, path: string): Promise<void> {
  await store.remove(user, path, { source: 'agent' });
}

export async function tempRoot(prefix = 'youlab-kb-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

// ---- a real hub process wired to an Open WebUI target ----

/** Start the real hub (bin/youlab-hub.js) with its KB sync pointed at `target`. */
export async function startHubWithOpenWebUI(target: OpenWebUITarget, env: Record<string, string> = {}): Promise<HubHandle> {
  return startHub({
    env: {
      RALPH_OPENWEBUI_URL: target.url,
      RALPH_OPENWEBUI_API_KEY: target.adminApiKey,
      RALPH_SYNC_INTERVAL: '300',
      ...env,
    },
  });
}

/** Poll `probe` until it returns a truthy value or `timeoutMs` passes (then throw). */
export async function waitFor<T>(probe: () => Promise<T | undefined | false>, timeoutMs: number, what: string): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

/** The KB of a hub user as the admin sees it: id, description and the paths of its files (hub metadata path, else basename); every page of both lists. */
export async function kbOf(
  target: OpenWebUITarget,
  userId: string,
  prefix = 'workspace',
): Promise<{ id: string; description: string; paths: string[]; ids: string[] } | undefined> {
  const admin = got.extend({ prefixUrl: target.url, headers: { authorization: `Bearer ${target.adminApiKey}` }, retry: { limit: 0 } });
  let kb: { id: string; name: string; description?: string | null } | undefined;
  for (let page = 1; page < 1000 && !kb; page++) {
    type Kb = { id: string; name: string; description?: string | null };
    const list = await admin('api/v1/knowledge/', { searchParams: { page } }).json<{ items: Kb[]; total?: number } | Kb[]>();
    const items = Array.isArray(list) ? list : list.items;
    kb = items.find((k) => k.name === `${prefix}-${userId}`);
    if (Array.isArray(list) || items.length === 0) break;
  }
  if (!kb) return undefined;
  const files = await asUser(target, target.adminApiKey).knowledgeFiles(kb.id);
  return { id: kb.id, description: kb.description ?? '', paths: files.map((f) => f.meta?.data?.path ?? f.filename).sort(), ids: files.map((f) => f.id) };
}
