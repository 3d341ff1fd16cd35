// Packaging inputs: electron-builder.yml passes electron-builder's own schema and names the
// targets and files we need; every tray state has its images on every platform, in real formats.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { TRAY_STATES } from '../../scripts/make-icons.ts';
import { trayIconPath } from '../../app/main/tray-icons.ts';

const root = resolve(import.meta.dirname, '..', '..');
const assets = join(root, 'assets');
const require = createRequire(import.meta.url);

interface Png {
  width: number;
  height: number;
  rgba: Buffer;
}

/** Minimal PNG reader for the RGBA, filter-0 files make-icons writes. */
function readPng(buf: Buffer): Png {
  expect(buf.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
  let off = 8;
  let width = 0;
  let height = 0;
  const idat: Buffer[] = [];
  while (off < buf.length) {
    const len = buf.readUInt32BE(off);
    const type = buf.toString('ascii', off + 4, off + 8);
    const data = buf.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      expect([data[8], data[9]]).toEqual([8, 6]);
    }
    if (type === 'IDAT') idat.push(data);
    off += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const rgba = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) raw.copy(rgba, y * width * 4, y * (width * 4 + 1) + 1, (y + 1) * (width * 4 + 1));
  return { width, height, rgba };
}

describe('electron-builder.yml', () => {
  it('passes electron-builder’s schema and builds the promised targets', async () => {
    const config = YAML.parse(await readFile(join(root, 'electron-builder.yml'), 'utf8'));
    const { validateConfiguration } = require('app-builder-lib/out/util/config/config.js') as {
      validateConfiguration(c: unknown, log: { warn(m: string): void }): Promise<void>;
    };
    await expect(validateConfiguration(config, { warn: () => {} })).resolves.toBeUndefined();
    expect(config.linux.target).toEqual(['AppImage', 'deb']);
    expect(config.mac.target[0].target).toBe('dmg');
    expect(config.mac.extendInfo.LSUIElement).toBe(true);
    expect(config.win.target[0].target).toBe('nsis');
    expect(config.extraMetadata.main).toBe('dist/main/index.js');
    expect(config.electronFuses).toMatchObject({ runAsNode: false, enableNodeCliInspectArguments: false, onlyLoadAppFromAsar: true });
    for (const icon of [config.mac.icon, config.win.icon, config.linux.icon]) expect(existsSync(join(root, icon))).toBe(true);
  });

  it('package.json points Electron at the entry build-app writes', async () => {
    const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));
    expect(pkg.main).toBe('dist/main/index.js');
    const script = await readFile(join(root, 'scripts', 'build-app.ts'), 'utf8');
    expect(script).toContain("outfile: join(outRoot, 'main', 'index.js')");
  });
});

describe('tray icons', () => {
  it.each(TRAY_STATES)('%s has Linux 1x/2x, macOS template 1x/2x and a Windows .ico', async (state) => {
    const linux = readPng(await readFile(trayIconPath(assets, state, 'linux')));
    expect([linux.width, linux.height]).toEqual([22, 22]);
    const linux2x = readPng(await readFile(join(assets, 'tray', 'linux', `${state}@2x.png`)));
    expect(linux2x.width).toBe(44);

    const mac = readPng(await readFile(trayIconPath(assets, state, 'darwin')));
    expect(mac.width).toBe(16);
    const mac2x = readPng(await readFile(join(assets, 'tray', 'mac', `${state}Template@2x.png`)));
    expect(mac2x.width).toBe(32);
    // Template images are black with alpha only: the menu bar tints them.
    for (const img of [mac, mac2x]) {
      for (let i = 0; i < img.rgba.length; i += 4) expect(img.rgba[i]! + img.rgba[i + 1]! + img.rgba[i + 2]!).toBe(0);
    }

    const ico = await readFile(trayIconPath(assets, state, 'win32'));
    expect(ico.readUInt16LE(2)).toBe(1);
    expect(ico.readUInt16LE(4)).toBeGreaterThanOrEqual(3);
    expect(ico[6]).toBe(16);
  });

  it('each state looks different from every other', async () => {
    const seen = new Set<string>();
    for (const s of TRAY_STATES) seen.add((await readFile(join(assets, 'tray', 'linux', `${s}@2x.png`))).toString('base64'));
    expect(seen.size).toBe(TRAY_STATES.length);
  });
});

describe('app icon', () => {
  it('comes as PNG 512/256, .ico and .icns', async () => {
    expect(readPng(await readFile(join(assets, 'icon-512.png'))).width).toBe(512);
    expect(readPng(await readFile(join(assets, 'icon-256.png'))).width).toBe(256);
    expect(readPng(await readFile(join(assets, 'icons', '512x512.png'))).width).toBe(512);
    const ico = await readFile(join(assets, 'icon.ico'));
    expect(ico.readUInt16LE(4)).toBe(7);
    const icns = await readFile(join(assets, 'icon.icns'));
    expect(icns.toString('ascii', 0, 4)).toBe('icns');
    expect(icns.readUInt32BE(4)).toBe(icns.length);
  });
});
