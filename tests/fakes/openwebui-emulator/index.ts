// An in-process emulator of the Open WebUI endpoints the hub uses, modelled on the real backend
// (routers/files.py, knowledge.py, retrieval.py of 0.12.4; `flavour: 'legacy'` answers like real
// 0.6.30). The contract suite runs the same scenarios against it and real releases, and
// tests/unit/openwebui-emulator-drift.test.ts compares its answers with answers recorded from the
// real releases (fixtures/), which keeps it honest. Like a real server it answers a GET path it has
// no route for with its web page (200 HTML) and another method with 405. Faults can be injected:
// slow or failed processing, 5xx, an HTML page, dropped connections.
import { createHash, randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import multer from 'multer';
import { sendSpaPage } from './spa.ts';

export interface EmuUser {
  id: string;
  email: string;
  name: string;
  role: 'admin' | 'user';
  password: string;
}

interface FileRec {
  id: string;
  user_id: string;
  filename: string;
  hash: string | null;
  data: { status?: string; error?: string | null; content?: string };
  meta: {
    name: string;
    content_type: string | null;
    size: number;
    file_hash: string;
    data: Record<string, unknown>;
    collection_name?: string;
  };
  bytes: Buffer;
  created_at: number;
  updated_at: number;
  seq: number;
}

interface Grant {
  principal_type: 'user' | 'group';
  principal_id: string;
  permission: 'read' | 'write';
}

interface KbRec {
  id: string;
  user_id: string;
  name: string;
  description: string;
  access_grants: Grant[];
  access_control: unknown;
  created_at: number;
  updated_at: number;
  files: string[];
  /** Folders (0.9.6+) and which folder each file sits in (absent: the root). */
  dirs: Map<string, { id: string; name: string; parent_id: string | null }>;
  fileDir: Map<string, string>;
}

export interface HttpFault {
  method?: string;
  path: RegExp;
  /** How many matching requests fail. */
  count: number;
  /**
   * 'drop' destroys the socket without an answer; 'html' answers the web app's page with 200 (a missing
   * route on a real server); a status answers it, after `delayMs` when given (a slow failure).
   */
  kind: { status: number; delayMs?: number } | 'drop' | 'html';
}

export interface EmulatorFaults {
  /** How long background processing takes (ms). */
  processingDelayMs: number;
  /** Return an error text to make processing of that upload fail. */
  failProcessing?: (filename: string, text: string) => string | undefined;
  http: HttpFault[];
}

export interface EmulatorOptions {
  version?: string;
  flavour?: 'current' | 'legacy';
  /** RAG_FILE_MAX_SIZE in MB. */
  maxFileSizeMb?: number;
  /** rag.file.allowed_extensions (empty: everything). */
  allowedExtensions?: string[];
  adminEmail?: string;
  adminPassword?: string;
}

export interface RequestLogEntry {
  method: string;
  path: string;
  status: number;
  user?: string;
}

const DUPLICATE = 'Duplicate content detected. Please provide unique content to proceed.';
const EMPTY = 'The content provided is empty. Please ensure that there is text or data present before proceeding.';
const PAGE = 30;

export class OpenWebUIEmulator {
  readonly users = new Map<string, EmuUser>();
  private readonly tokens = new Map<string, string>(); // token -> user id
  readonly files = new Map<string, FileRec>();
  readonly knowledge = new Map<string, KbRec>();
  readonly faults: EmulatorFaults = { processingDelayMs: 10, http: [] };
  readonly log: RequestLogEntry[] = [];
  /** Called as each request arrives, before any fault (tests look at the world at that moment). */
  onRequest: ((method: string, path: string) => void) | undefined;
  /** Requests being answered right now, and the most there ever were at once, per "METHOD /route". */
  readonly inFlight = new Map<string, { now: number; peak: number }>();
  private server: Server | undefined;
  private seq = 0;
  private clock = 0;
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Ends of processing that requests wait for (released on stop). */
  private readonly processing = new Set<() => void>();
  url = '';
  readonly version: string;
  readonly flavour: 'current' | 'legacy';
  readonly admin: EmuUser;
  adminApiKey = '';

  constructor(private readonly opts: EmulatorOptions = {}) {
    this.version = opts.version ?? (opts.flavour === 'legacy' ? '0.6.30' : '0.12.4');
    this.flavour = opts.flavour ?? 'current';
    this.admin = this.addUser('Admin', opts.adminEmail ?? 'admin@example.test', 'admin', opts.adminPassword ?? 'admin');
  }

  addUser(name: string, email: string, role: 'admin' | 'user' = 'user', password = 'secret'): EmuUser {
    const u: EmuUser = { id: randomUUID(), email, name, role, password };
    this.users.set(u.id, u);
    return u;
  }

  tokenFor(user: EmuUser): string {
    const token = `jwt-${randomUUID()}`;
    this.tokens.set(token, user.id);
    return token;
  }

  apiKeyFor(user: EmuUser): string {
    const key = `sk-${randomUUID().replace(/-/g, '')}`;
    this.tokens.set(key, user.id);
    return key;
  }

  /** Requests per "METHOD /route" (ids as `{id}`, see routeOf). */
  count(route: string): number {
    return this.log.filter((l) => `${l.method} ${routeOf(l.path)}` === route).length;
  }

  /** Uploads made (POST /api/v1/files/), for "no re-upload loop" checks. */
  uploads(): RequestLogEntry[] {
    return this.log.filter((l) => l.method === 'POST' && /^\/api\/v1\/files\/?$/.test(l.path));
  }

  private now(): number {
    // Monotonic seconds: created_at ties broken by seq anyway.
    this.clock = Math.max(this.clock, Math.floor(Date.now() / 1000));
    return this.clock;
  }

  async start(port = 0): Promise<string> {
    const app = this.app();
    await new Promise<void>((resolve, reject) => {
      this.server = app.listen(port, '127.0.0.1', (err?: Error) => (err ? reject(err) : resolve()));
    });
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
    this.adminApiKey = this.apiKeyFor(this.admin);
    return this.url;
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const end of this.processing) end();
    this.processing.clear();
    const s = this.server;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
    this.server = undefined;
  }

  // ---- the HTTP surface ----

  private app(): express.Express {
    const app = express();
    const upload = multer({ storage: multer.memoryStorage() });
    app.use((req, res, next) => {
      this.onRequest?.(req.method, req.path);
      const route = `${req.method} ${routeOf(req.path)}`;
      const meter = this.inFlight.get(route) ?? { now: 0, peak: 0 };
      this.inFlight.set(route, meter);
      meter.now++;
      meter.peak = Math.max(meter.peak, meter.now);
      // 'close' comes once per request, also when the client gave up before the answer (status 0).
      res.once('close', () => {
        meter.now--;
        this.log.push({ method: req.method, path: req.path, status: res.writableFinished ? res.statusCode : 0 });
      });
      const fault = this.faults.http.find((f) => f.count > 0 && (!f.method || f.method === req.method) && f.path.test(req.path));
      if (fault) {
        fault.count--;
        if (fault.kind === 'drop') {
          req.socket.destroy();
          return;
        }
        if (fault.kind === 'html') return void sendSpaPage(res);
        const { status, delayMs } = fault.kind;
        if (delayMs) setTimeout(() => res.status(status).json({ detail: 'injected fault' }), delayMs);
        else res.status(status).json({ detail: 'injected fault' });
        return;
      }
      next();
    });
    app.use(express.json({ limit: '20mb' }));

    app.get('/health', (_req, res) => void res.json({ status: true }));
    app.get('/api/version', (_req, res) => void res.json({ version: this.version }));

    app.post('/api/v1/auths/signin', (req, res) => {
      const { email, password } = (req.body ?? {}) as { email?: string; password?: string };
      const u = [...this.users.values()].find((x) => x.email === email && x.password === password);
      if (!u) return void res.status(400).json({ detail: 'The email or password provided is incorrect.' });
      res.json({ ...publicUser(u), token: this.tokenFor(u), token_type: 'Bearer' });
    });

    const auth = (req: Request, res: Response, next: NextFunction): void => {
      const h = req.headers.authorization ?? '';
      const token = h.startsWith('Bearer ') ? h.slice(7) : '';
      const uid = this.tokens.get(token);
      if (!uid) {
        res.status(401).json({ detail: 'Not authenticated' });
        return;
      }
      res.locals.user = this.users.get(uid);
      next();
    };
    const me = (res: Response): EmuUser => res.locals.user as EmuUser;
    const adminOnly = (req: Request, res: Response, next: NextFunction): void => {
      if (me(res).role !== 'admin') {
        res.status(401).json({ detail: 'You do not have permission to access this resource.' });
        return;
      }
      next();
    };

    app.get('/api/v1/auths/', auth, (req, res) => {
      // 0.12: session endpoints refuse API keys.
      if (this.flavour === 'current' && (req.headers.authorization ?? '').startsWith('Bearer sk-')) {
        return void res.status(403).json({ detail: 'A human session is required.' });
      }
      res.json(publicUser(me(res)));
    });
    app.post('/api/v1/auths/api_key', auth, (_req, res) => void res.json({ api_key: this.apiKeyFor(me(res)) }));
    app.post('/api/v1/auths/add', auth, adminOnly, (req, res) => {
      const { name, email, password, role } = (req.body ?? {}) as Record<string, string>;
      if (!email || !password) return void res.status(400).json({ detail: 'email and password required' });
      if ([...this.users.values()].some((u) => u.email === email)) {
        return void res.status(400).json({ detail: 'Uh-oh! This email is already registered.' });
      }
      const u = this.addUser(name ?? email, email, role === 'admin' ? 'admin' : 'user', password);
      res.json({ ...publicUser(u), token: this.tokenFor(u), token_type: 'Bearer' });
    });
    const usersMatching = (req: Request): EmuUser[] => {
      const q = String(req.query.query ?? '').toLowerCase();
      return [...this.users.values()].filter((u) => !q || u.email.includes(q) || u.name.toLowerCase().includes(q));
    };
    // The admin's listing, with emails and roles, in every release.
    app.get('/api/v1/users/', auth, adminOnly, (req, res) => {
      const items = usersMatching(req);
      res.json({ users: items.map(publicUser), total: items.length });
    });
    app.get('/api/v1/users/all', auth, adminOnly, (_req, res) => {
      res.json({ users: [...this.users.values()].map(publicUser), total: this.users.size });
    });
    // 0.6.30's search answers ids and names only.
    app.get('/api/v1/users/search', auth, (req, res) => {
      const items = usersMatching(req);
      res.json({ users: items.map((u) => (this.flavour === 'legacy' ? { id: u.id, name: u.name } : publicUser(u))), total: items.length });
    });

    app.get('/api/v1/users/:id', auth, adminOnly, (req, res) => {
      const u = this.users.get(String(req.params.id));
      if (!u) return void res.status(400).json({ detail: 'We could not find what you were looking for :/' });
      // 0.6.30 answers a name and a picture, no id or role.
      if (this.flavour === 'legacy') return void res.json({ name: u.name, profile_image_url: '/user.png', active: false });
      res.json(publicUser(u));
    });

    // ---- files ----
    app.post('/api/v1/files/', auth, upload.single('file'), async (req, res) => {
      const file = req.file;
      if (!file) return void res.status(422).json({ detail: [{ msg: 'Field required', loc: ['body', 'file'] }] });
      let metadata: Record<string, unknown> = {};
      if (typeof req.body?.metadata === 'string' && req.body.metadata) {
        try {
          metadata = JSON.parse(req.body.metadata as string) as Record<string, unknown>;
        } catch {
          return void res.status(400).json({ detail: '[ERROR: Invalid metadata format]' });
        }
      }
      const process = req.query.process !== 'false';
      // 0.12.4: `process_in_background=false` processes inside the request; the answer still shows
      // the record as it was before processing. The legacy flavour always works in the background.
      const inline = process && req.query.process_in_background === 'false' && this.flavour === 'current';
      // Folders are dropped: only the basename is kept (os.path.basename).
      const name = file.originalname.slice(file.originalname.lastIndexOf('/') + 1);
      const ext = name.includes('.') ? name.slice(name.lastIndexOf('.') + 1).toLowerCase() : '';
      const allowed = this.opts.allowedExtensions ?? [];
      if (process && allowed.length > 0 && !allowed.includes(ext)) {
        return void res.status(400).json({ detail: `[ERROR: File type ${ext} is not allowed]` });
      }
      if (process && file.buffer.length === 0) {
        // 0.6.30's storage refuses it without saying why.
        return void res.status(400).json({ detail: this.flavour === 'legacy' ? '[ERROR: Error uploading file]' : EMPTY });
      }
      const max = this.opts.maxFileSizeMb;
      if (max && file.buffer.length > max * 1024 * 1024) {
        return void res.status(413).json({ detail: `File size exceeds the maximum allowed size of ${max} MB.` });
      }
      const t = this.now();
      const rec: FileRec = {
        id: randomUUID(),
        user_id: me(res).id,
        filename: name,
        hash: null,
        data: process ? { status: 'pending' } : {},
        meta: {
          name,
          content_type: file.mimetype || null,
          size: file.buffer.length,
          file_hash:
            typeof metadata.file_hash === 'string' ? metadata.file_hash : createHash('sha256').update(file.buffer).digest('hex'),
          data: metadata,
        },
        bytes: Buffer.from(file.buffer),
        created_at: t,
        updated_at: t,
        seq: ++this.seq,
      };
      this.files.set(rec.id, rec);
      const answer = { status: true, ...this.fileOut(rec) };
      const processed = process ? this.scheduleProcessing(rec) : undefined;
      // A client that stops waiting does not stop the processing (0.12.4's middlewares are pure ASGI).
      if (inline) await processed;
      if (!res.headersSent && !res.destroyed) res.json(answer);
    });

    app.get('/api/v1/files/search', auth, (req, res) => {
      const pattern = globToRegExp(String(req.query.filename ?? '*'));
      const limit = Math.min(1000, Math.max(1, Number(req.query.limit ?? 100)));
      const found = [...this.files.values()]
        .filter((f) => (me(res).role === 'admin' || f.user_id === me(res).id) && pattern.test(f.filename))
        .sort((a, b) => b.created_at - a.created_at || b.seq - a.seq)
        .slice(0, limit);
      if (found.length === 0) return void res.status(404).json({ detail: 'No files found matching the pattern.' });
      res.json(found.map((f) => this.fileOut(f, true)));
    });

    app.get('/api/v1/files/', auth, (req, res) => {
      const mine = [...this.files.values()]
        .filter((f) => me(res).role === 'admin' || f.user_id === me(res).id)
        .sort((a, b) => b.updated_at - a.updated_at || b.seq - a.seq)
        .map((f) => this.fileOut(f));
      if (this.flavour === 'legacy') return void res.json(mine);
      const page = Math.max(1, Number(req.query.page ?? 1));
      res.json({ items: mine.slice((page - 1) * 50, page * 50), total: mine.length });
    });

    const fileAccess = (res: Response, id: string): FileRec | undefined => {
      const f = this.files.get(id);
      if (!f) return undefined;
      const u = me(res);
      if (u.role === 'admin' || f.user_id === u.id) return f;
      // Read access through a KB that holds the file.
      for (const kb of this.knowledge.values()) {
        if (kb.files.includes(id) && this.kbAccess(kb, u, 'read')) return f;
      }
      return undefined;
    };

    app.get('/api/v1/files/:id', auth, (req, res) => {
      const f = fileAccess(res, String(req.params.id));
      if (!f) return void res.status(404).json({ detail: 'We could not find what you were looking for :/' });
      res.json(this.fileOut(f, true));
    });
    app.get('/api/v1/files/:id/process/status', auth, (req, res) => {
      const f = fileAccess(res, String(req.params.id));
      if (!f) return void res.status(404).json({ detail: 'We could not find what you were looking for :/' });
      res.json({ status: f.data.status ?? 'pending' });
    });
    app.get('/api/v1/files/:id/content', auth, (req, res) => {
      const f = fileAccess(res, String(req.params.id));
      if (!f) return void res.status(404).json({ detail: 'We could not find what you were looking for :/' });
      res.setHeader('content-type', f.meta.content_type ?? 'application/octet-stream');
      res.setHeader('content-disposition', `attachment; filename="${encodeURIComponent(f.filename)}"`);
      res.end(f.bytes);
    });
    app.get('/api/v1/files/:id/data/content', auth, (req, res) => {
      const f = fileAccess(res, String(req.params.id));
      if (!f) return void res.status(404).json({ detail: 'We could not find what you were looking for :/' });
      res.json({ content: f.data.content ?? '' });
    });
    app.delete('/api/v1/files/:id', auth, (req, res) => {
      const f = fileAccess(res, String(req.params.id));
      if (!f || (f.user_id !== me(res).id && me(res).role !== 'admin')) {
        return void res.status(404).json({ detail: 'We could not find what you were looking for :/' });
      }
      for (const kb of this.knowledge.values()) kb.files = kb.files.filter((x) => x !== f.id);
      this.files.delete(f.id);
      res.json({ message: 'File deleted successfully' });
    });

    // ---- knowledge ----
    const listKb = (res: Response): KbRec[] =>
      [...this.knowledge.values()]
        .filter((k) => this.kbAccess(k, me(res), 'read'))
        .sort((a, b) => b.updated_at - a.updated_at);
    app.get('/api/v1/knowledge/', auth, (req, res) => {
      const all = listKb(res);
      if (this.flavour === 'legacy') return void res.json(all.map((k) => this.kbOut(k, true)));
      const page = Math.max(1, Number(req.query.page ?? 1));
      // 0.12.4's list items carry no `files` key at all.
      const items = all.slice((page - 1) * PAGE, page * PAGE).map((k) => ({ ...this.kbOut(k, false), files: undefined }));
      res.json({ items, total: all.length });
    });
    app.post('/api/v1/knowledge/create', auth, (req, res) => {
      const body = (req.body ?? {}) as { name?: string; description?: string; access_grants?: Grant[]; access_control?: unknown };
      if (typeof body.name !== 'string' || typeof body.description !== 'string') {
        return void res.status(422).json({ detail: [{ msg: 'Field required', loc: ['body', 'description'] }] });
      }
      const t = this.now();
      const kb: KbRec = {
        id: randomUUID(),
        user_id: me(res).id,
        name: body.name,
        description: body.description,
        access_grants: this.flavour === 'current' ? (body.access_grants ?? []) : [],
        access_control: this.flavour === 'legacy' ? (body.access_control ?? null) : undefined,
        created_at: t,
        updated_at: t,
        files: [],
        dirs: new Map(),
        fileDir: new Map(),
      };
      this.knowledge.set(kb.id, kb);
      res.json(this.kbOut(kb, this.flavour === 'legacy'));
    });

    const kbFor = (req: Request, res: Response, perm: 'read' | 'write'): KbRec | undefined => {
      const kb = this.knowledge.get(String(req.params.id));
      const getRecord = perm === 'read' && req.method === 'GET' && !req.path.endsWith('/files');
      if (!kb) {
        // 0.6.30 answers a missing KB's record with 401.
        res.status(getRecord ? (this.flavour === 'legacy' ? 401 : 404) : 400).json({ detail: "We could not find what you're looking for :/" });
        return undefined;
      }
      if (this.flavour === 'legacy' && getRecord && !this.kbAccess(kb, me(res), perm)) {
        res.json(null); // 0.6.30 answers a KB the caller may not read with 200 and null
        return undefined;
      }
      if (!this.kbAccess(kb, me(res), perm)) {
        res.status(400).json({ detail: 'You do not have permission to access this resource.' });
        return undefined;
      }
      return kb;
    };

    // 0.12.4: name and description only (access_grants dropped from the update); up to 0.7 the
    // whole form is written, so a missing access_control becomes null (everyone reads).
    app.post('/api/v1/knowledge/:id/update', auth, (req, res) => {
      const kb = kbFor(req, res, 'write');
      if (!kb) return;
      const body = (req.body ?? {}) as { name?: unknown; description?: unknown; access_control?: unknown };
      if (typeof body.name !== 'string' || typeof body.description !== 'string') {
        return void res.status(422).json({ detail: [{ msg: 'Field required', loc: ['body', typeof body.name !== 'string' ? 'name' : 'description'] }] });
      }
      kb.name = body.name;
      kb.description = body.description;
      if (this.flavour === 'legacy') {
        // 0.6.30 stores the whole form: access_control and `data` (its file_ids) as sent, or null.
        kb.access_control = body.access_control ?? null;
        const data = (req.body as { data?: { file_ids?: unknown } }).data;
        kb.files = Array.isArray(data?.file_ids) ? data.file_ids.filter((x): x is string => typeof x === 'string') : [];
      }
      kb.updated_at = this.now();
      res.json(this.kbOut(kb, this.flavour === 'legacy'));
    });
    app.get('/api/v1/knowledge/:id', auth, (req, res) => {
      const kb = kbFor(req, res, 'read');
      if (kb) res.json(this.kbOut(kb, this.flavour === 'legacy'));
    });
    app.get('/api/v1/knowledge/:id/files', (req, res, next) => {
      // Before 0.6.42 the route does not exist: the web page answers (the fallback below).
      if (this.flavour === 'legacy') return void next('route');
      auth(req, res, next);
    }, (req, res) => {
      const kb = kbFor(req, res, 'read');
      if (!kb) return;
      const asc = req.query.direction === 'asc';
      const byCreated = req.query.order_by === 'created_at';
      // directory_id present: that folder only ('' = the root); absent: every file.
      const scoped = typeof req.query.directory_id === 'string';
      const scope = scoped && req.query.directory_id !== '' ? String(req.query.directory_id) : null;
      const items = kb.files
        .filter((id) => !scoped || (kb.fileDir.get(id) ?? null) === scope)
        .map((id) => this.files.get(id)!)
        .filter(Boolean)
        .sort((a, b) => {
          const d = byCreated ? a.created_at - b.created_at || a.seq - b.seq : a.updated_at - b.updated_at || a.seq - b.seq;
          return asc ? d : -d;
        });
      const page = Math.max(1, Number(req.query.page ?? 1));
      // `limit` is honoured for admins only; everyone else gets 30 a page.
      const size = me(res).role === 'admin' && req.query.limit !== undefined ? Math.max(1, Number(req.query.limit)) : PAGE;
      res.json({
        items: items.slice((page - 1) * size, page * size).map((f) => ({
          ...this.fileOut(f),
          data: null,
          directory_id: kb.fileDir.get(f.id) ?? null,
          directory_path: this.dirPath(kb, kb.fileDir.get(f.id)),
        })),
        directories: [...kb.dirs.values()].filter((d) => d.parent_id === scope).sort((a, b) => a.name.localeCompare(b.name)),
        total: items.length,
      });
    });
    app.post('/api/v1/knowledge/:id/dirs/create', (req, res, next) => {
      if (this.flavour === 'legacy') return void next('route');
      auth(req, res, next);
    }, (req, res) => {
      const kb = kbFor(req, res, 'write');
      if (!kb) return;
      const { name, parent_id } = (req.body ?? {}) as { name?: string; parent_id?: string | null };
      const parent = parent_id ?? null;
      if (parent && !kb.dirs.has(parent)) return void res.status(400).json({ detail: 'Parent directory not found.' });
      if (!name || [...kb.dirs.values()].some((d) => d.parent_id === parent && d.name === name)) {
        return void res.status(400).json({ detail: 'Failed to create directory. A directory with this name may already exist at this level.' });
      }
      const dir = { id: randomUUID(), name, parent_id: parent };
      kb.dirs.set(dir.id, dir);
      res.json({ ...dir, knowledge_id: kb.id });
    });
    app.delete('/api/v1/knowledge/:id/dirs/:dirId/delete', auth, (req, res) => {
      const kb = kbFor(req, res, 'write');
      if (!kb) return;
      const dir = kb.dirs.get(String(req.params.dirId));
      if (!dir) return void res.status(404).json({ detail: 'We could not find what you were looking for :/' });
      const moveFiles = req.query.move_files !== 'false';
      const gone = new Set<string>();
      const collect = (id: string): void => {
        gone.add(id);
        for (const d of kb.dirs.values()) if (d.parent_id === id) collect(d.id);
      };
      collect(dir.id);
      const fileIds: string[] = [];
      for (const [fid, did] of [...kb.fileDir]) {
        if (!gone.has(did)) continue;
        if (moveFiles) {
          if (dir.parent_id) kb.fileDir.set(fid, dir.parent_id);
          else kb.fileDir.delete(fid);
        } else {
          fileIds.push(fid);
          kb.fileDir.delete(fid);
          kb.files = kb.files.filter((x) => x !== fid);
          this.files.delete(fid);
        }
      }
      for (const id of gone) kb.dirs.delete(id);
      res.json({ status: true, file_ids: fileIds });
    });
    app.post('/api/v1/knowledge/:id/file/add', auth, (req, res) => {
      const kb = kbFor(req, res, 'write');
      if (!kb) return;
      const directoryId = (req.body as { directory_id?: string | null })?.directory_id ?? null;
      if (directoryId && !kb.dirs.has(directoryId)) return void res.status(400).json({ detail: 'Target directory not found.' });
      const fileId = (req.body as { file_id?: string })?.file_id ?? '';
      const f = this.files.get(fileId);
      if (!f) return void res.status(400).json({ detail: 'We could not find what you were looking for :/' });
      if (f.user_id !== me(res).id && me(res).role !== 'admin' && !fileAccess(res, fileId)) {
        return void res.status(403).json({ detail: 'You do not have permission to access this resource.' });
      }
      if (f.data.status !== 'completed') {
        return void res.status(400).json({ detail: 'Extracted content is not available for this file. Please ensure that the file is processed before proceeding.' });
      }
      const text = f.data.content ?? f.bytes.toString('utf8');
      const textHash = createHash('sha256').update(text).digest('hex');
      const dupe = kb.files.some((id) => id !== f.id && this.files.get(id)?.hash === textHash);
      if (dupe) {
        // The real add marks the file failed and clears its hash.
        f.data = { ...f.data, status: 'failed', error: DUPLICATE };
        f.hash = null;
        return void res.status(400).json({ detail: `400: ${DUPLICATE}` });
      }
      f.hash = textHash;
      f.meta.collection_name = kb.id;
      f.updated_at = this.now();
      if (!kb.files.includes(f.id)) kb.files.push(f.id);
      if (directoryId) kb.fileDir.set(f.id, directoryId);
      kb.updated_at = this.now();
      res.json(this.kbOut(kb, true));
    });
    // 0.12.4's batch add: every folder and file checked first (one bad one refuses the request),
    // files already in the KB skipped, the rest embedded from their extracted text in one go. A
    // duplicate is left out; unlike file/add the file is not marked failed, and the reason never
    // reaches the caller (the route passes `warnings` to an answer model without that field).
    app.post('/api/v1/knowledge/:id/files/batch/add', auth, (req, res) => {
      const kb = kbFor(req, res, 'write');
      if (!kb) return;
      const forms = (Array.isArray(req.body) ? req.body : []) as { file_id?: string; directory_id?: string | null }[];
      for (const d of new Set(forms.map((f) => f.directory_id).filter(Boolean))) {
        if (!kb.dirs.has(d!)) return void res.status(400).json({ detail: 'Target directory not found.' });
      }
      const missing = forms.find((f) => !this.files.has(f.file_id ?? ''));
      if (missing) return void res.status(400).json({ detail: `File ${missing.file_id} not found` });
      if (me(res).role !== 'admin' && forms.some((f) => !fileAccess(res, f.file_id!))) {
        return void res.status(403).json({ detail: 'You do not have permission to access this resource.' });
      }
      const fresh = forms.filter((f) => !kb.files.includes(f.file_id!));
      // The real one fetches the files newest first (updated_at desc) and checks them in that order.
      const order = fresh.map((f) => this.files.get(f.file_id!)!).sort((a, b) => b.updated_at - a.updated_at || b.seq - a.seq);
      const seen = new Set<string>();
      const t = this.now();
      for (const f of order) {
        const textHash = createHash('sha256').update(f.data.content ?? '').digest('hex');
        if (seen.has(textHash) || kb.files.some((id) => id !== f.id && this.files.get(id)?.hash === textHash)) continue;
        seen.add(textHash);
        f.hash = textHash;
        f.meta.collection_name = kb.id;
        f.updated_at = t;
        kb.files.push(f.id);
        const dir = forms.find((x) => x.file_id === f.id)?.directory_id;
        if (dir) kb.fileDir.set(f.id, dir);
      }
      kb.updated_at = t;
      res.json(this.kbOut(kb, true));
    });
    app.post('/api/v1/knowledge/:id/file/remove', auth, (req, res) => {
      const kb = kbFor(req, res, 'write');
      if (!kb) return;
      const fileId = (req.body as { file_id?: string })?.file_id ?? '';
      const f = this.files.get(fileId);
      if (!f || !kb.files.includes(fileId)) return void res.status(400).json({ detail: 'We could not find what you were looking for :/' });
      kb.files = kb.files.filter((x) => x !== fileId);
      // 0.12 default (ENABLE_KNOWLEDGE_FILE_RETENTION off): the file goes too, if the caller owns it.
      const deleteFile = req.query.delete_file !== 'false';
      if (deleteFile && (f.user_id === me(res).id || me(res).role === 'admin')) this.files.delete(fileId);
      res.json(this.kbOut(kb, true));
    });
    app.delete('/api/v1/knowledge/:id/delete', auth, (req, res) => {
      const kb = kbFor(req, res, 'write');
      if (!kb) return;
      this.knowledge.delete(kb.id); // its files stay behind
      res.json(true);
    });

    // ---- retrieval ----
    app.post('/api/v1/retrieval/query/collection', auth, (req, res) => {
      const body = (req.body ?? {}) as { collection_names?: string[]; query?: string; k?: number };
      const names = body.collection_names ?? [];
      for (const n of names) {
        const kb = this.knowledge.get(n);
        // 0.6.30 checks no access here: any user who knows the id can query the KB.
        if (!kb || (this.flavour === 'current' && !this.kbAccess(kb, me(res), 'read'))) {
          return void res.status(403).json({ detail: 'You do not have permission to access this resource.' });
        }
      }
      const words = new Set((body.query ?? '').toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []);
      const hits: { doc: string; meta: Record<string, unknown>; score: number }[] = [];
      for (const n of names) {
        for (const id of this.knowledge.get(n)!.files) {
          const f = this.files.get(id);
          if (!f) continue;
          const text = f.data.content ?? '';
          const tw = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
          const score = tw.filter((w) => words.has(w)).length / Math.max(1, words.size);
          // 0.12.4 copies the upload's metadata into each chunk's; 0.6.30 does not.
          const extra = this.flavour === 'current' ? f.meta.data : {};
          if (score > 0) hits.push({ doc: text, meta: { file_id: f.id, name: f.filename, source: f.filename, ...extra }, score });
        }
      }
      hits.sort((a, b) => b.score - a.score);
      const top = hits.slice(0, body.k ?? 3);
      res.json({ distances: [top.map((h) => h.score)], documents: [top.map((h) => h.doc)], metadatas: [top.map((h) => h.meta)] });
    });

    // A real server's fallback: its web page for any GET path it does not know, 405 otherwise.
    app.use((req, res) => {
      if (req.method === 'GET') return void sendSpaPage(res);
      res.status(405).json({ detail: 'Method Not Allowed' });
    });
    return app;
  }

  /** Resolves when the processing of `f` has ended (or the emulator stopped). */
  private scheduleProcessing(f: FileRec): Promise<void> {
    let ended!: () => void;
    const done = new Promise<void>((r) => (ended = r));
    this.processing.add(ended);
    // Like 0.12: 'pending' until the background task starts, then 'processing', then the outcome.
    const started = setTimeout(() => {
      this.timers.delete(started);
      if (f.data.status === 'pending') f.data = { status: 'processing' };
    }, Math.min(5, this.faults.processingDelayMs));
    this.timers.add(started);
    const t = setTimeout(() => {
      this.timers.delete(t);
      this.processing.delete(ended);
      ended();
      if (!this.files.has(f.id)) return;
      const text = f.bytes.toString('utf8');
      // The PDF loader of the real one fails on bytes that are not a PDF.
      const notPdf = f.filename.toLowerCase().endsWith('.pdf') && !f.bytes.subarray(0, 5).equals(Buffer.from('%PDF-'));
      const failure = this.faults.failProcessing?.(f.filename, text) ?? (notPdf ? 'Stream has ended unexpectedly' : undefined);
      if (failure) {
        f.data = { status: 'failed', error: failure };
      } else if (text.trim() === '') {
        f.data = { status: 'failed', error: EMPTY };
      } else {
        f.data = { status: 'completed', content: text, error: null };
        f.hash = createHash('sha256').update(text).digest('hex');
      }
      f.updated_at = this.now();
    }, this.faults.processingDelayMs);
    this.timers.add(t);
    return done;
  }

  private dirPath(kb: KbRec, dirId: string | undefined): string {
    const names: string[] = [];
    for (let d = dirId ? kb.dirs.get(dirId) : undefined; d; d = d.parent_id ? kb.dirs.get(d.parent_id) : undefined) {
      names.unshift(d.name);
    }
    return names.join('/');
  }

  private kbAccess(kb: KbRec, u: EmuUser, perm: 'read' | 'write'): boolean {
    if (u.role === 'admin' || kb.user_id === u.id) return true;
    if (this.flavour === 'legacy') {
      const ac = kb.access_control as { read?: { user_ids?: string[] }; write?: { user_ids?: string[] } } | null;
      if (ac === null) return perm === 'read';
      return Boolean(ac?.[perm]?.user_ids?.includes(u.id));
    }
    return kb.access_grants.some((g) => g.principal_type === 'user' && g.principal_id === u.id && g.permission === perm);
  }

  private fileOut(f: FileRec, full = false): Record<string, unknown> {
    return {
      id: f.id,
      user_id: f.user_id,
      hash: f.hash,
      filename: f.filename,
      data: full ? { status: f.data.status, error: f.data.error ?? undefined } : { status: f.data.status },
      meta: this.flavour === 'legacy' ? { ...f.meta, file_hash: undefined } : { ...f.meta },
      created_at: f.created_at,
      updated_at: f.updated_at,
    };
  }

  /** A KB's file as KB answers list it: no name, status or owner (0.6.30 has no `hash` either). */
  private fileMetadata(f: FileRec): Record<string, unknown> {
    const { id, meta, created_at, updated_at, hash } = this.fileOut(f) as Record<string, unknown>;
    return { id, meta, created_at, updated_at, ...(this.flavour === 'current' ? { hash } : {}) };
  }

  private kbOut(kb: KbRec, inlineFiles: boolean): Record<string, unknown> {
    return {
      id: kb.id,
      user_id: kb.user_id,
      name: kb.name,
      description: kb.description,
      ...(this.flavour === 'legacy' ? { access_control: kb.access_control } : { access_grants: kb.access_grants }),
      created_at: kb.created_at,
      updated_at: kb.updated_at,
      files: inlineFiles ? kb.files.map((id) => this.fileMetadata(this.files.get(id)!)) : null,
    };
  }
}

/** A request path with its ids replaced by `{id}` ("/api/v1/files/{id}/process/status"). */
export function routeOf(path: string): string {
  return path.replace(/\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '/{id}');
}

/** The route's glob (`*` any run, `?` one character), matched case-insensitively like SQL ILIKE. */
function globToRegExp(glob: string): RegExp {
  const body = [...glob].map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[\\^$.|+()[\]{}]/g, '\\$&'))).join('');
  return new RegExp(`^${body}$`, 'i');
}

function publicUser(u: EmuUser): Record<string, unknown> {
  return { id: u.id, email: u.email, name: u.name, role: u.role };
}

/** Start an emulator on 127.0.0.1, port 0. */
export async function startEmulator(opts: EmulatorOptions = {}): Promise<OpenWebUIEmulator> {
  const emu = new OpenWebUIEmulator(opts);
  await emu.start();
  return emu;
}
