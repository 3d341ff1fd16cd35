// Developer probe: times the parts of a no-change round (scan, hub listing, plan) on an N-file tree.
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HubClient } from '../../../app/sync/index.ts';
import { scanLocal } from '../../../app/sync/scanner.ts';
import { createIgnore } from '../../../shared/ignore-rules.ts';
import { startHub } from '../../helpers/hub.ts';

const N = Number(process.argv[2] ?? 10_000);
const root = await mkdtemp(join(tmpdir(), 'probe-'));
const tree = join(root, 'tree');
for (let d = 0; d < Math.ceil(N / 100); d++) {
  await mkdir(join(tree, `d${d}`), { recursive: true });
  for (let f = 0; f < 100 && d * 100 + f < N; f++) await writeFile(join(tree, `d${d}`, `f${f}.txt`), `file ${d}/${f}\n`.repeat(100));
}
const hub = await startHub({ env: { RALPH_RATE_LIMIT_TRANSFER_PER_MIN: '1000000' } });
const key = await hub.createKey('alice');
await cp(tree, join(hub.dataDir, 'alice', 'workspace'), { recursive: true });
const t = () => performance.now();
try {
  const ignore = createIgnore([]);
  let s = await scanLocal(tree, { ignore, cache: {} });
  for (let i = 0; i < 3; i++) {
    const t0 = t();
    s = await scanLocal(tree, { ignore, cache: s.cache });
    console.log('scan', Math.round(t() - t0), 'ms hashed', s.hashed);
  }
  const c = new HubClient({ baseUrl: hub.url, apiKey: key });
  c.setUser('alice');
  for (let i = 0; i < 4; i++) {
    const t0 = t();
    const l = await c.list();
    console.log('list', Math.round(t() - t0), 'ms', l.files.length);
  }
  const { writeFile: wf } = await import('node:fs/promises');
  const { hashFile } = await import('../../../shared/node/hash.ts');
  for (let i = 0; i < 5; i++) {
    const f = join(root, `up${i}.txt`);
    await wf(f, `hello ${i}`);
    const t0 = t();
    const h = await hashFile(f);
    const t1 = t();
    await c.upload(`up${i}.txt`, f, h, { ifNoneMatch: true });
    console.log('hash', Math.round(t1 - t0), 'upload', Math.round(t() - t1), 'ms');
  }
} finally {
  await hub.stop();
  await rm(root, { recursive: true, force: true });
}
