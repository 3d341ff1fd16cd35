// Draws the app and tray icons from signed-distance shapes and writes them as PNG (node:zlib),
// ICO (PNG frames) and ICNS (PNG chunks), so no image tool or download is needed.
// Usage: npx tsx scripts/make-icons.ts   (writes into assets/; the results are committed)
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';

type Vec = [number, number];
type RGBA = [number, number, number, number];
/** Signed distance in unit canvas coordinates (negative inside). */
type Shape = (p: Vec) => number;
interface Layer {
  shape: Shape;
  color: RGBA | ((p: Vec) => RGBA);
  /** Cut the shape out of what is below instead of painting it. */
  knockout?: boolean;
}

// ---------- shapes ----------
const len = (x: number, y: number) => Math.hypot(x, y);
const circle = (c: Vec, r: number): Shape => (p) => len(p[0] - c[0], p[1] - c[1]) - r;
const ring = (c: Vec, r: number, w: number): Shape => (p) => Math.abs(len(p[0] - c[0], p[1] - c[1]) - r) - w / 2;
const segment = (a: Vec, b: Vec, w: number): Shape => (p) => {
  const pa: Vec = [p[0] - a[0], p[1] - a[1]];
  const ba: Vec = [b[0] - a[0], b[1] - a[1]];
  const t = Math.max(0, Math.min(1, (pa[0] * ba[0] + pa[1] * ba[1]) / (ba[0] * ba[0] + ba[1] * ba[1])));
  return len(pa[0] - ba[0] * t, pa[1] - ba[1] * t) - w / 2;
};
const roundedBox = (c: Vec, half: Vec, r: number): Shape => (p) => {
  const qx = Math.abs(p[0] - c[0]) - half[0] + r;
  const qy = Math.abs(p[1] - c[1]) - half[1] + r;
  return len(Math.max(qx, 0), Math.max(qy, 0)) + Math.min(Math.max(qx, qy), 0) - r;
};
/** Ring restricted to angles a0..a1 (radians, y down), with round caps. */
const arc = (c: Vec, r: number, w: number, a0: number, a1: number): Shape => {
  const end = (a: number): Vec => [c[0] + r * Math.cos(a), c[1] + r * Math.sin(a)];
  const e0 = end(a0);
  const e1 = end(a1);
  return (p) => {
    let a = Math.atan2(p[1] - c[1], p[0] - c[0]);
    while (a < a0) a += 2 * Math.PI;
    if (a <= a1) return Math.abs(len(p[0] - c[0], p[1] - c[1]) - r) - w / 2;
    return Math.min(len(p[0] - e0[0], p[1] - e0[1]), len(p[0] - e1[0], p[1] - e1[1])) - w / 2;
  };
};
const triangle = (a: Vec, b: Vec, c: Vec): Shape => (p) => {
  // Inigo Quilez's exact triangle distance.
  const e0: Vec = [b[0] - a[0], b[1] - a[1]];
  const e1: Vec = [c[0] - b[0], c[1] - b[1]];
  const e2: Vec = [a[0] - c[0], a[1] - c[1]];
  const v0: Vec = [p[0] - a[0], p[1] - a[1]];
  const v1: Vec = [p[0] - b[0], p[1] - b[1]];
  const v2: Vec = [p[0] - c[0], p[1] - c[1]];
  const proj = (v: Vec, e: Vec): Vec => {
    const t = Math.max(0, Math.min(1, (v[0] * e[0] + v[1] * e[1]) / (e[0] * e[0] + e[1] * e[1])));
    return [v[0] - e[0] * t, v[1] - e[1] * t];
  };
  const pq0 = proj(v0, e0);
  const pq1 = proj(v1, e1);
  const pq2 = proj(v2, e2);
  const s = Math.sign(e0[0] * e2[1] - e0[1] * e2[0]);
  const d0: Vec = [pq0[0] ** 2 + pq0[1] ** 2, s * (v0[0] * e0[1] - v0[1] * e0[0])];
  const d1: Vec = [pq1[0] ** 2 + pq1[1] ** 2, s * (v1[0] * e1[1] - v1[1] * e1[0])];
  const d2: Vec = [pq2[0] ** 2 + pq2[1] ** 2, s * (v2[0] * e2[1] - v2[1] * e2[0])];
  const dmin = Math.min(d0[0], d1[0], d2[0]);
  const smin = Math.min(d0[1], d1[1], d2[1]);
  return -Math.sqrt(dmin) * Math.sign(smin);
};
const union = (...shapes: Shape[]): Shape => (p) => Math.min(...shapes.map((s) => s(p)));

/** Circular arrow: an arc with an arrowhead at its end, pointing clockwise. */
function arrowArc(c: Vec, r: number, w: number, a0: number, a1: number, head: number): Shape {
  const p: Vec = [c[0] + r * Math.cos(a1), c[1] + r * Math.sin(a1)];
  const t: Vec = [-Math.sin(a1), Math.cos(a1)];
  const n: Vec = [Math.cos(a1), Math.sin(a1)];
  const tip: Vec = [p[0] + t[0] * head, p[1] + t[1] * head];
  const b1: Vec = [p[0] + n[0] * head - t[0] * head * 0.2, p[1] + n[1] * head - t[1] * head * 0.2];
  const b2: Vec = [p[0] - n[0] * head - t[0] * head * 0.2, p[1] - n[1] * head - t[1] * head * 0.2];
  return union(arc(c, r, w, a0, a1), triangle(tip, b1, b2));
}

function syncArrows(c: Vec, r: number, w: number, head: number): Shape {
  const d = Math.PI / 180;
  return union(arrowArc(c, r, w, -165 * d, -30 * d, head), arrowArc(c, r, w, 15 * d, 150 * d, head));
}

// ---------- raster ----------
function render(size: number, layers: Layer[]): Uint8Array {
  const out = new Uint8Array(size * size * 4);
  const ss = size >= 256 ? 2 : 4; // supersamples per axis: crisp edges at 16 px, quick at 1024
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let r = 0;
      let g = 0;
      let b = 0;
      let a = 0; // premultiplied accumulation over subsamples
      for (let sy = 0; sy < ss; sy++) {
        for (let sx = 0; sx < ss; sx++) {
          const p: Vec = [(x + (sx + 0.5) / ss) / size, (y + (sy + 0.5) / ss) / size];
          let pr = 0;
          let pg = 0;
          let pb = 0;
          let pa = 0;
          for (const L of layers) {
            if (L.shape(p) > 0) continue;
            if (L.knockout) {
              pr = pg = pb = pa = 0;
              continue;
            }
            const col = typeof L.color === 'function' ? L.color(p) : L.color;
            const ca = col[3] / 255;
            pr = col[0] * ca + pr * (1 - ca);
            pg = col[1] * ca + pg * (1 - ca);
            pb = col[2] * ca + pb * (1 - ca);
            pa = ca + pa * (1 - ca);
          }
          r += pr;
          g += pg;
          b += pb;
          a += pa;
        }
      }
      const n = ss * ss;
      const i = (y * size + x) * 4;
      const alpha = a / n;
      out[i] = alpha ? Math.round(r / n / alpha) : 0;
      out[i + 1] = alpha ? Math.round(g / n / alpha) : 0;
      out[i + 2] = alpha ? Math.round(b / n / alpha) : 0;
      out[i + 3] = Math.round(alpha * 255);
    }
  }
  return out;
}

// ---------- encoders ----------
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of buf) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}
export function encodePng(size: number, rgba: Uint8Array): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // RGBA
  const raw = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) {
    raw[y * (size * 4 + 1)] = 0; // filter: none
    Buffer.from(rgba.buffer, rgba.byteOffset + y * size * 4, size * 4).copy(raw, y * (size * 4 + 1) + 1);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', new Uint8Array(0)),
  ]);
}
/** ICO with PNG frames (understood since Windows Vista). */
export function encodeIco(frames: Array<{ size: number; png: Buffer }>): Buffer {
  const header = Buffer.alloc(6);
  header.writeUInt16LE(0, 0);
  header.writeUInt16LE(1, 2);
  header.writeUInt16LE(frames.length, 4);
  const dir = Buffer.alloc(16 * frames.length);
  let offset = 6 + dir.length;
  frames.forEach((f, i) => {
    const o = i * 16;
    dir[o] = f.size >= 256 ? 0 : f.size;
    dir[o + 1] = f.size >= 256 ? 0 : f.size;
    dir.writeUInt16LE(1, o + 4); // planes
    dir.writeUInt16LE(32, o + 6); // bpp
    dir.writeUInt32LE(f.png.length, o + 8);
    dir.writeUInt32LE(offset, o + 12);
    offset += f.png.length;
  });
  return Buffer.concat([header, dir, ...frames.map((f) => f.png)]);
}
/** ICNS with PNG chunks (OSType -> pixel size). */
export function encodeIcns(entries: Array<{ type: string; png: Buffer }>): Buffer {
  const parts = entries.map((e) => {
    const h = Buffer.alloc(8);
    h.write(e.type, 0, 'ascii');
    h.writeUInt32BE(e.png.length + 8, 4);
    return Buffer.concat([h, e.png]);
  });
  const total = 8 + parts.reduce((n, p) => n + p.length, 0);
  const h = Buffer.alloc(8);
  h.write('icns', 0, 'ascii');
  h.writeUInt32BE(total, 4);
  return Buffer.concat([h, ...parts]);
}

// ---------- designs ----------
export const TRAY_STATES = ['idle', 'syncing', 'paused', 'offline', 'error', 'conflicts'] as const;
type TrayState = (typeof TRAY_STATES)[number];

const C: Vec = [0.5, 0.5];
const WHITE: RGBA = [255, 255, 255, 255];
const BLACK: RGBA = [0, 0, 0, 255];
const STATE_COLOR: Record<TrayState, RGBA> = {
  idle: [46, 160, 67, 255],
  syncing: [31, 111, 235, 255],
  paused: [110, 118, 129, 255],
  offline: [110, 118, 129, 255],
  error: [207, 34, 46, 255],
  conflicts: [219, 125, 0, 255],
};

/** The white mark drawn on (or cut out of) the state's disc. */
function glyph(state: TrayState): Shape {
  switch (state) {
    case 'idle':
      return union(segment([0.29, 0.52], [0.44, 0.67], 0.11), segment([0.44, 0.67], [0.72, 0.36], 0.11));
    case 'syncing':
      return syncArrows(C, 0.23, 0.085, 0.1);
    case 'paused':
      return union(roundedBox([0.39, 0.5], [0.055, 0.19], 0.02), roundedBox([0.61, 0.5], [0.055, 0.19], 0.02));
    case 'offline':
      return segment([0.2, 0.2], [0.8, 0.8], 0.1);
    case 'error':
      return union(segment([0.5, 0.26], [0.5, 0.56], 0.12), circle([0.5, 0.73], 0.07));
    case 'conflicts':
      // ⇄: one arrow each way
      return union(
        segment([0.27, 0.4], [0.62, 0.4], 0.085),
        triangle([0.78, 0.4], [0.6, 0.27], [0.6, 0.53]),
        segment([0.38, 0.62], [0.73, 0.62], 0.085),
        triangle([0.22, 0.62], [0.4, 0.49], [0.4, 0.75]),
      );
  }
}

function trayLayers(state: TrayState, template: boolean): Layer[] {
  const disc = circle(C, 0.47);
  if (state === 'offline') {
    // Hollow disc and a slash: "not connected" reads at a glance, in colour or as a template.
    const col = template ? BLACK : STATE_COLOR.offline;
    return [
      { shape: ring(C, 0.4, 0.11), color: col },
      { shape: segment([0.2, 0.2], [0.8, 0.8], 0.19), color: [0, 0, 0, 0], knockout: true },
      { shape: glyph('offline'), color: col },
    ];
  }
  return template
    ? [
        { shape: disc, color: BLACK },
        { shape: glyph(state), color: [0, 0, 0, 0], knockout: true },
      ]
    : [
        { shape: disc, color: STATE_COLOR[state] },
        { shape: glyph(state), color: WHITE },
      ];
}

function appLayers(): Layer[] {
  const top: RGBA = [64, 140, 255, 255];
  const bottom: RGBA = [24, 78, 196, 255];
  const gradient = (p: Vec): RGBA => {
    const t = Math.max(0, Math.min(1, (p[1] - 0.06) / 0.88));
    return [0, 1, 2, 3].map((i) => Math.round(top[i]! + (bottom[i]! - top[i]!) * t)) as RGBA;
  };
  return [
    { shape: roundedBox(C, [0.44, 0.44], 0.1), color: gradient },
    { shape: syncArrows(C, 0.25, 0.08, 0.09), color: WHITE },
  ];
}

// ---------- output ----------
async function write(path: string, data: Buffer): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, data);
}

export async function makeIcons(assetsDir: string): Promise<string[]> {
  const written: string[] = [];
  const png = (size: number, layers: Layer[]) => encodePng(size, render(size, layers));
  const out = async (rel: string, data: Buffer) => {
    await write(join(assetsDir, rel), data);
    written.push(rel);
  };
  for (const s of TRAY_STATES) {
    await out(`tray/linux/${s}.png`, png(22, trayLayers(s, false)));
    await out(`tray/linux/${s}@2x.png`, png(44, trayLayers(s, false)));
    await out(`tray/mac/${s}Template.png`, png(16, trayLayers(s, true)));
    await out(`tray/mac/${s}Template@2x.png`, png(32, trayLayers(s, true)));
    await out(`tray/win/${s}.ico`, encodeIco([16, 20, 24, 32, 48].map((size) => ({ size, png: png(size, trayLayers(s, false)) }))));
  }
  const app = appLayers();
  const appPng = new Map<number, Buffer>();
  for (const size of [16, 24, 32, 48, 64, 128, 256, 512, 1024]) appPng.set(size, png(size, app));
  await out('icon-512.png', appPng.get(512)!);
  await out('icon-256.png', appPng.get(256)!);
  for (const size of [16, 32, 48, 64, 128, 256, 512]) await out(`icons/${size}x${size}.png`, appPng.get(size)!);
  await out('icon.ico', encodeIco([16, 24, 32, 48, 64, 128, 256].map((size) => ({ size, png: appPng.get(size)! }))));
  await out(
    'icon.icns',
    encodeIcns([
      { type: 'icp4', png: appPng.get(16)! },
      { type: 'icp5', png: appPng.get(32)! },
      { type: 'icp6', png: appPng.get(64)! },
      { type: 'ic07', png: appPng.get(128)! },
      { type: 'ic08', png: appPng.get(256)! },
      { type: 'ic09', png: appPng.get(512)! },
      { type: 'ic10', png: appPng.get(1024)! },
      { type: 'ic11', png: appPng.get(32)! },
      { type: 'ic12', png: appPng.get(64)! },
      { type: 'ic13', png: appPng.get(256)! },
      { type: 'ic14', png: appPng.get(512)! },
    ]),
  );
  return written;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const assets = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'assets');
  makeIcons(assets).then(
    (files) => console.log(`wrote ${files.length} icon files into ${assets}`),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}
