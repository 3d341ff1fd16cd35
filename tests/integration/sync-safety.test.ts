// docs/SYNC-SPEC.md safety scenarios: state file lost, local root removed or emptied, file written while
// syncing, client killed mid-download and mid-upload.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { hashBytes } from '../../shared/node/hash.ts';
import { runOnce, SYNC_BIN, type TestClient, useHubWithDevices, type DevicePair } from '../helpers/client.ts';

const world = useHubWithDevices('s');
const pair = (): Promise<DevicePair> => world.pair();

async function files(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true, withFileTypes: true }))
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath, d.name).slice(dir.length + 1))
    .sort();
}

async function waitFor(cond: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('timed out');
    await sleep(20);
  }
}

describe('safety', { timeout: 120_000 }, () => {
  it.each([
    ['lost', async (c: TestClient) => rm(join(c.stateDir, 'state.json'))],
    ['corrupt', async (c: TestClient) => writeFile(join(c.stateDir, 'state.json'), '{"version":1,"base":{"x"')],
  ])('state file %s: the next round merges and never deletes', async (how, damage) => {
    const { a, b, ws } = await pair();
    await a.write('one.txt', '1');
    await a.write('two.txt', '2');
    await a.sync();
    await b.sync();
    // Meanwhile beta deletes two.txt on the hub and alpha adds a file; then alpha loses its state.
    await unlink(join(b.folder, 'two.txt'));
    await b.sync();
    await a.write('three.txt', '3');
    await damage(a);
    expect(await a.sync()).toBe('uploaded 2, downloaded 0, deleted 0, conflicts 0');
    // Without a base, the absent two.txt is not a delete: it came back (merge), nothing was lost.
    expect(await files(ws)).toEqual(['one.txt', 'three.txt', 'two.txt']);
    expect(await files(a.folder)).toEqual(['one.txt', 'three.txt', 'two.txt']);
    if (how === 'corrupt') expect((await readdir(a.stateDir)).some((f) => f.startsWith('state.json.corrupt-'))).toBe(true);
  });

  it('local root removed: the round stops with a clear message, non-zero exit, no remote deletes', async () => {
    const { a, ws } = await pair();
    await a.write('keep/a.txt', 'a');
    await a.write('b.txt', 'b');
    await a.sync();
    await rm(a.folder, { recursive: true });
    const r = await a.once();
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/local folder .* is missing .*nothing was deleted/);
    expect(await files(ws)).toEqual(['b.txt', 'keep/a.txt']);
    expect(existsSync(a.folder)).toBe(false);
  });

  it('local root emptied (unmounted mount point): the guard stops, no remote deletes', async () => {
    const { a, ws } = await pair();
    await a.write('a.txt', 'a');
    await a.write('b.txt', 'b');
    await a.sync();
    for (const f of await readdir(a.folder)) await rm(join(a.folder, f), { recursive: true });
    const r = await a.once();
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/mass-delete|missing or empty/);
    expect(await files(ws)).toEqual(['a.txt', 'b.txt']);
  });

  it('mass delete over the share stops the round', async () => {
    const { a, ws } = await pair();
    for (let i = 0; i < 20; i++) await a.write(`f${i}.txt`, `${i}`);
    await a.sync();
    for (let i = 0; i < 15; i++) await rm(join(a.folder, `f${i}.txt`));
    const r = await a.once();
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/would delete 15 of 20 files on the hub/);
    expect(await files(ws)).toHaveLength(20);
  });

  it('file written while syncing: no torn version is ever recorded, and the next round converges', async () => {
    const { a, b, ws } = await pair();
    await a.write('anchor.txt', 'x');
    const target = join(a.folder, 'busy.dat');
    const size = 300_000;
    // A writer that rewrites the file in place (truncate + write), over and over.
    const writer = spawn(process.execPath, [
      '-e',
      `const fs=require('fs');let i=0;const end=Date.now()+4000;` +
        `(function loop(){if(Date.now()>end)return;const c=String.fromCharCode(97+(i++%26));` +
        `const fd=fs.openSync(${JSON.stringify(target)},'w');for(let k=0;k<10;k++)fs.writeSync(fd,c.repeat(${size / 10}));fs.closeSync(fd);setTimeout(loop,5)})()`,
    ]);
    const exited = new Promise((r) => writer.on('close', r));
    const during = [await a.once(), await a.once()];
    await exited;
    for (const r of during) expect([0, 6]).toContain(r.code);
    // Whatever reached the hub is a whole version: one letter, full length.
    if (existsSync(join(ws, 'busy.dat'))) {
      const onHub = await readFile(join(ws, 'busy.dat'), 'utf8');
      expect(onHub.length).toBe(size);
      expect(new Set(onHub).size).toBe(1);
    }
    await a.sync();
    const final = await readFile(target, 'utf8');
    expect(await readFile(join(ws, 'busy.dat'), 'utf8')).toBe(final);
    await b.sync();
    expect(await readFile(join(b.folder, 'busy.dat'), 'utf8')).toBe(final);
  });

  it('client killed (SIGKILL) mid-download leaves no partial file and converges on the next round', async () => {
    const { a, b, ws } = await pair();
    const big = Buffer.alloc(3 * 1024 * 1024, 1);
    big.write('head', 0);
    await a.write('keep.txt', 'k');
    await a.write('big.bin', big);
    await a.sync();
    await b.sync();
    await a.write('big.bin', Buffer.concat([big.subarray(0, 100), Buffer.from('changed'), big.subarray(107)]));
    await a.sync();
    const expected = await readFile(join(ws, 'big.bin'));
    const oldHash = hashBytes(big);

    // A throttled download, killed once its temp file has bytes in it.
    const child = spawn(process.execPath, [SYNC_BIN, '--server', world.hub.url, '--folder', b.folder, '--state-dir', b.stateDir, '--device', 'beta', '--once', '--max-rate', '300000'], {
      env: { ...process.env, YOULAB_API_KEY: (b.opts().key), YOULAB_SYNC_CONFIG: join(b.stateDir, 'none.yaml') },
      stdio: 'ignore',
    });
    const tmp = join(b.stateDir, 'tmp');
    await waitFor(async () => {
      const names = existsSync(tmp) ? await readdir(tmp) : [];
      return names.some((f) => f.endsWith('.youlab-tmp'));
    });
    await sleep(200);
    child.kill('SIGKILL');
    await new Promise((r) => child.on('close', r));
    // The folder holds the old version, whole; no temp file in it.
    expect(await files(b.folder)).toEqual(['big.bin', 'keep.txt']);
    expect(hashBytes(await readFile(join(b.folder, 'big.bin')))).toBe(oldHash);

    expect(await b.sync()).toBe('uploaded 0, downloaded 1, deleted 0, conflicts 0');
    expect((await readFile(join(b.folder, 'big.bin'))).equals(expected)).toBe(true);
    expect(await readdir(tmp)).toEqual([]);
  });

  it('client killed (SIGKILL) mid-upload leaves the hub unchanged and converges on the next round', async () => {
    const { a, ws } = await pair();
    await a.write('keep.txt', 'k');
    await a.sync();
    await mkdir(join(a.folder, 'd'));
    const big = Buffer.alloc(3 * 1024 * 1024, 2);
    await a.write('d/up.bin', big);
    const child = spawn(process.execPath, [SYNC_BIN, '--server', world.hub.url, '--folder', a.folder, '--state-dir', a.stateDir, '--device', 'alpha', '--once', '--max-rate', '300000'], {
      env: { ...process.env, YOULAB_API_KEY: a.opts().key, YOULAB_SYNC_CONFIG: join(a.stateDir, 'none.yaml') },
      stdio: 'ignore',
    });
    await sleep(2500);
    child.kill('SIGKILL');
    await new Promise((r) => child.on('close', r));
    // Either the upload had not finished (no file) or it had (the whole file); never part of it.
    const onHub = existsSync(join(ws, 'd/up.bin')) ? await readFile(join(ws, 'd/up.bin')) : undefined;
    if (onHub) expect(onHub.equals(big)).toBe(true);
    expect((await files(ws)).filter((f) => !['keep.txt', 'd/up.bin'].includes(f))).toEqual([]);
    const r = await runOnce(a.opts());
    expect(r.code, r.stderr).toBe(0);
    expect((await readFile(join(ws, 'd/up.bin'))).equals(big)).toBe(true);
  });
});
