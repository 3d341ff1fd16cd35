// Deterministic test trees. Content is an AES-CTR keystream keyed by the seed: incompressible
// (no tool gets a free ride from compression or dedup), identical on every run, and fast to make.
// A tree is built once per work dir and reused, read-only, by every tool.
import { createCipheriv, createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export interface FileGroup {
  /** Top folder of the group inside the tree. */
  dir: string;
  count: number;
  size: number;
  /** Files per leaf folder; leaves nest in folders of ten. */
  perLeaf: number;
}

export interface TreeSpec {
  name: string;
  seed: string;
  groups: FileGroup[];
}

export interface Tree {
  spec: TreeSpec;
  root: string;
  files: number;
  bytes: number;
  /** Relative paths, `/`-separated, in build order. */
  paths: string[];
}

const KiB = 1024;
const MiB = 1024 * KiB;

/** The trees, file counts multiplied by `scale` (sizes unchanged). */
export function standardSpecs(scale: number): { mixed: TreeSpec; many: TreeSpec } {
  const n = (x: number) => Math.max(1, Math.round(x * scale));
  return {
    mixed: {
      name: `mixed-${n(10_000)}x4k-${n(20)}x5m`,
      seed: 'youlab-bench-mixed',
      groups: [
        { dir: 'notes', count: n(10_000), size: 4 * KiB, perLeaf: 100 },
        { dir: 'media', count: n(20), size: 5 * MiB, perLeaf: 5 },
      ],
    },
    many: {
      name: `many-${n(100_000)}x1k`,
      seed: 'youlab-bench-many',
      groups: [{ dir: 'files', count: n(100_000), size: 1 * KiB, perLeaf: 100 }],
    },
  };
}

/** `notes/3/7/f003712.dat`: leaf index written digit by digit, one folder per digit. */
export function filePath(group: FileGroup, index: number): string {
  const leaves = Math.ceil(group.count / group.perLeaf);
  const width = Math.max(1, String(Math.max(0, leaves - 1)).length);
  const leaf = String(Math.floor(index / group.perLeaf)).padStart(width, '0');
  const name = `f${String(index).padStart(String(group.count).length, '0')}.dat`;
  return [group.dir, ...leaf.split(''), name].join('/');
}

function keystream(seed: string) {
  const key = createHash('sha256').update(seed).digest().subarray(0, 16);
  const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  return (size: number) => cipher.update(Buffer.alloc(size));
}

export function treePaths(spec: TreeSpec): string[] {
  return spec.groups.flatMap((g) => Array.from({ length: g.count }, (_, i) => filePath(g, i)));
}

export async function buildTree(spec: TreeSpec, treesDir: string): Promise<Tree> {
  const root = join(treesDir, spec.name);
  // The marker sits beside the tree, never inside it, so no tool syncs it.
  const marker = `${root}.json`;
  const paths = treePaths(spec);
  const files = paths.length;
  const bytes = spec.groups.reduce((s, g) => s + g.count * g.size, 0);
  const want = JSON.stringify({ spec, files, bytes });
  if (existsSync(marker) && (await readFile(marker, 'utf8')) === want) return { spec, root, files, bytes, paths };

  await rm(root, { recursive: true, force: true });
  await rm(marker, { force: true });
  const next = keystream(spec.seed);
  const dirs = new Set(paths.map((p) => dirname(p)));
  for (const d of dirs) await mkdir(join(root, d), { recursive: true });
  // Content is drawn in order (deterministic); writes run a few at a time.
  const inFlight = new Set<Promise<void>>();
  for (const g of spec.groups) {
    for (let i = 0; i < g.count; i++) {
      const p = writeFile(join(root, filePath(g, i)), next(g.size)).then(() => {
        inFlight.delete(p);
      });
      inFlight.add(p);
      if (inFlight.size >= 32) await Promise.race(inFlight);
    }
  }
  await Promise.all(inFlight);
  await writeFile(marker, want);
  return { spec, root, files, bytes, paths };
}

/** Counts regular files and bytes under `root`, skipping the named top-level entries (tool metadata). */
export async function measureDir(root: string, skip: string[] = []): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  const walk = async (dir: string, top: boolean): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      if (top && skip.includes(e.name)) continue;
      const full = join(dir, e.name);
      if (e.isDirectory()) await walk(full, false);
      else if (e.isFile()) {
        files++;
        bytes += (await stat(full)).size;
      }
    }
  };
  await walk(root, true);
  return { files, bytes };
}

/**
 * Proves a replica holds the tree: same file count and bytes, and a byte-for-byte sample
 * (every 97th file plus the last). Not timed; a tool that "finishes" early fails here.
 */
export async function verifyReplica(tree: Tree, replica: string, skip: string[] = []): Promise<void> {
  const got = await measureDir(replica, skip);
  if (got.files !== tree.files || got.bytes !== tree.bytes) {
    throw new Error(`replica ${replica}: ${got.files} files / ${got.bytes} B, want ${tree.files} / ${tree.bytes}`);
  }
  const sample = tree.paths.filter((_, i) => i % 97 === 0 || i === tree.paths.length - 1);
  for (const p of sample) {
    const [a, b] = await Promise.all([readFile(join(tree.root, p)), readFile(join(replica, p))]);
    if (!a.equals(b)) throw new Error(`replica ${replica}: ${p} differs from the tree`);
  }
}
