// The emulator answers like the real releases it stands for: the same walk over the hub's routes
// (shapes.ts) against each flavour, compared with what a real release answered (fixtures/, recorded
// by the contract suite with YOULAB_RECORD_FIXTURES=1). Same status and body kind per call, and no
// key the release lacks or types it differs in.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { startEmulator } from '../fakes/openwebui-emulator/index.ts';
import { drift, fixtureFile, probeShapes, recordingDrift, type Recording } from '../fakes/openwebui-emulator/shapes.ts';

const flavours = [
  { flavour: 'current', release: '0.12.4' },
  { flavour: 'legacy', release: '0.6.30' },
] as const;

describe.each(flavours)('the emulator, $flavour flavour, against the recording of real $release', ({ flavour, release }) => {
  it('answers every call of the walk in the recorded shape', async () => {
    const recorded = JSON.parse(await readFile(fixtureFile(release), 'utf8')) as Recording;
    expect(recorded.version).toBe(release);
    const emu = await startEmulator({ flavour });
    try {
      const emulated = await probeShapes(emu.url, emu.adminApiKey);
      expect(emulated.version).toBe(release);
      expect(recordingDrift(recorded, emulated)).toEqual([]);
    } finally {
      await emu.stop();
    }
  });
});

describe('drift', () => {
  it('reports a key the release lacks, another type, a list for an object; not a key only the release has, nor null', () => {
    const real = { id: 'string', files: 'null', items: [{ a: 'number', b: 'string' }] };
    expect(drift(real, { id: 'string', files: [], items: [{ a: 'number' }] })).toEqual([]);
    expect(drift(real, { id: 'number', extra: 'string', items: { a: 'number' } })).toEqual([
      '$.id: "number" where the release answers "string"',
      '$.extra: the release has no such key',
      '$.items: an object where the release answers a list',
    ]);
  });
});
