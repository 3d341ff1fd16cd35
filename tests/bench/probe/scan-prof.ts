// Developer probe: CPU profile of no-change scans (run with node --cpu-prof --import tsx).
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scanLocal } from '../../../app/sync/scanner.ts';
import { createIgnore } from '../../../shared/ignore-rules.ts';

const N = Number(process.argv[2] ?? 10_000);
const root = await mkdtemp(join(tmpdir(), 'probe-'));
for (let d = 0; d < Math.ceil(N / 100); d++) {
  await mkdir(join(root, `d${d}`), { recursive: true });
  for (let f = 0; f < 100 && d * 100 + f < N; f++) await writeFile(join(root, `d${d}`, `f${f}.txt`), `x${f}`);
}
const ignore = createIgnore([]);
let s = await scanLocal(root, { ignore, cache: {} });
for (let i = 0; i < 5; i++) {
  const t0 = performance.now();
  s = await scanLocal(root, { ignore, cache: s.cache });
  console.log('scan', Math.round(performance.now() - t0), 'ms hashed', s.hashed);
}
await rm(root, { recursive: true, force: true });
