// Developer probe (not part of `npm run bench`): the cost of a conditional listing answered 304,
// old hub against new hub, interleaved in one run on copies of one tree so machine noise hits
// both alike. Each side is a checkout of this repository (e.g. a `git worktree` at an older commit).
//   node --import tsx tests/bench/probe/conditional-list-ab.ts <repoA> <repoB> [files=10000] [requests=40]
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createUserKey, startHub, type HubHandle } from '../../helpers/hub.ts';

const [repoA, repoB] = [process.argv[2]!, process.argv[3]!];
const N = Number(process.argv[4] ?? 10_000);
const REQUESTS = Number(process.argv[5] ?? 40);
const root = await mkdtemp(join(tmpdir(), 'probe-304-'));
const tree = join(root, 'tree');
// Folders of 100 files nested in folders of ten, as the bench's trees.
for (let i = 0; i < N; i++) {
  const leaf = String(Math.floor(i / 100)).padStart(4, '0');
  const dir = join(tree, ...leaf.split(''));
  if (i % 100 === 0) await mkdir(dir, { recursive: true });
  await writeFile(join(dir, `f${i}.txt`), `file ${i}\n`.repeat(40));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function side(repo: string, name: string): Promise<{ hub: HubHandle; ask: () => Promise<number> }> {
  const dataDir = join(root, name);
  await mkdir(join(dataDir, 'u'), { recursive: true });
  await cp(tree, join(dataDir, 'u', 'workspace'), { recursive: true });
  const key = await createUserKey(dataDir, 'u');
  const hub = await startHub({ dataDir, bin: join(repo, 'bin', 'youlab-hub.js') });
  const headers = { authorization: `Bearer ${key}` };
  const url = `${hub.url}/users/u/workspace/files`;
  const { cursor } = (await (await fetch(url, { headers })).json()) as { cursor: string };
  const ask = async (): Promise<number> => {
    const t0 = performance.now();
    const r = await fetch(url, { headers: { ...headers, 'if-none-match': `"${cursor}"` } });
    await r.arrayBuffer();
    const ms = performance.now() - t0;
    return r.status === 304 ? ms : -r.status;
  };
  return { hub, ask };
}

const a = await side(repoA, 'a');
const b = await side(repoB, 'b');
try {
  // Both settle: the agent watchers have seen the copied tree, folder marks are older than their racy window.
  await new Promise((r) => setTimeout(r, 3000));
  for (const s of [a, b]) {
    const deadline = Date.now() + 30_000;
    while ((await s.ask()) < 0) {
      if (Date.now() > deadline) throw new Error('no 304 within 30 s');
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  const ta: number[] = [];
  const tb: number[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    ta.push(await a.ask());
    tb.push(await b.ask());
  }
  if ([...ta, ...tb].some((x) => x < 0)) throw new Error('a request was not answered 304');
  const ma = median(ta);
  const mb = median(tb);
  console.log(`${N} files, ${REQUESTS} requests each, interleaved`);
  console.log(`A ${repoA}: 304 median ${ma.toFixed(2)} ms (min ${Math.min(...ta).toFixed(2)}, max ${Math.max(...ta).toFixed(2)})`);
  console.log(`B ${repoB}: 304 median ${mb.toFixed(2)} ms (min ${Math.min(...tb).toFixed(2)}, max ${Math.max(...tb).toFixed(2)})`);
  console.log(`B - A: ${(mb - ma).toFixed(2)} ms; B / A: ${(mb / ma).toFixed(2)}x`);
} finally {
  await a.hub.stop();
  await b.hub.stop();
  await rm(root, { recursive: true, force: true });
}
