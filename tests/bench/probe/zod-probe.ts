// Developer probe: cost of validating a 100,000-entry listing with the protocol schema.
import { FileListSchema } from '../../../shared/protocol.ts';
const files = Array.from({ length: 100_000 }, (_, i) => ({ path: `d${i >> 7}/f${i}.txt`, hash: `sha256:${'a'.repeat(64)}`, size: 1024, modified: new Date().toISOString() }));
const text = JSON.stringify({ cursor: 'x:1', files });
for (let i = 0; i < 3; i++) {
  let t0 = performance.now();
  const v = JSON.parse(text) as unknown;
  const t1 = performance.now();
  FileListSchema.parse(v);
  console.log('JSON.parse', Math.round(t1 - t0), 'zod', Math.round(performance.now() - t1));
  t0 = performance.now();
  JSON.stringify(v);
  console.log('stringify', Math.round(performance.now() - t0));
}
