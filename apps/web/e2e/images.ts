/**
 * Photo-like pictures for the browser tests whose screenshots the README shows: small SVG scenes (a sunset, a lake
 * under mountains, a forest, a harbour, a tabby cat on a windowsill) drawn here and rendered by sharp, so the
 * uploads, the server's thumbnails and the previews look like a real instance's. Deterministic: the same bytes on
 * every run.
 */
import sharp from 'sharp';

export type Scene = 'sunset' | 'lake' | 'forest' | 'harbour' | 'tabby';
export type ImageFormat = 'png' | 'jpeg' | 'webp';

/** A small seeded PRNG (mulberry32): the scenes scatter trees, clouds and ripples the same way every time. */
function random(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const r1 = (n: number) => Math.round(n * 10) / 10;
const pts = (points: [number, number][]) => points.map(([x, y]) => `${r1(x)},${r1(y)}`).join(' ');

/** A vertical gradient definition from [offset, colour] stops. */
const vgrad = (id: string, stops: [number, string][]) =>
  `<linearGradient id="${id}" x1="0" y1="0" x2="0" y2="1">${stops
    .map(([o, c]) => `<stop offset="${o}" stop-color="${c}"/>`)
    .join('')}</linearGradient>`;

/** A mountain range: a jagged ridge between `top` and `base` across the width, closed down to `bottom`. */
function ridge(rand: () => number, w: number, top: number, base: number, bottom: number, step: number) {
  const points: [number, number][] = [[0, bottom]];
  let y = base - (base - top) * rand();
  for (let x = 0; x <= w + step; x += step) {
    y = Math.min(base, Math.max(top, y + (rand() - 0.5) * step * 1.6));
    points.push([x, y]);
  }
  points.push([w, bottom]);
  return pts(points);
}

/** A pine tree standing at (x, y), `h` tall (`slim`: half its width over its height): three tiers and a trunk. */
function pine(x: number, y: number, h: number, fill: string, slim = 0.42) {
  const w = h * slim;
  const tier = (t: number, s: number) =>
    pts([
      [x, y - h + t * h * 0.26],
      [x - w * s, y - h * 0.06 - (2 - t) * h * 0.2],
      [x + w * s, y - h * 0.06 - (2 - t) * h * 0.2],
    ]);
  return `<g fill="${fill}"><rect x="${r1(x - h * 0.02)}" y="${r1(y - h * 0.1)}" width="${r1(h * 0.04)}" height="${r1(h * 0.1)}"/><polygon points="${tier(2, 1)}"/><polygon points="${tier(1, 0.78)}"/><polygon points="${tier(0, 0.55)}"/></g>`;
}

/** Soft clouds: clusters of blurred ellipses. */
function clouds(rand: () => number, w: number, yMin: number, yMax: number, count: number, fill: string, flat = 1) {
  let out = '';
  for (let i = 0; i < count; i++) {
    const cx = rand() * w;
    const cy = yMin + rand() * (yMax - yMin);
    const size = 60 + rand() * 90;
    for (let j = 0; j < 5; j++) {
      out += `<ellipse cx="${r1(cx + (j - 2) * size * 0.45 + rand() * 20)}" cy="${r1(cy - Math.sin((j / 4) * Math.PI) * size * 0.25)}" rx="${r1(size * (0.5 + rand() * 0.3) * flat)}" ry="${r1((size * (0.22 + rand() * 0.12)) / flat)}"/>`;
    }
  }
  return `<g fill="${fill}" filter="url(#soft)">${out}</g>`;
}

/** Thin horizontal glints on water between `top` and `bottom`. */
function ripples(rand: () => number, w: number, top: number, bottom: number, count: number, colour: string) {
  let out = '';
  for (let i = 0; i < count; i++) {
    const y = top + (bottom - top) * rand() ** 1.4;
    const len = 20 + rand() * 90 * (1 + (y - top) / (bottom - top));
    out += `<rect x="${r1(rand() * w)}" y="${r1(y)}" width="${r1(len)}" height="${r1(1 + (2 * (y - top)) / (bottom - top))}" rx="1"/>`;
  }
  return `<g fill="${colour}" opacity="0.35">${out}</g>`;
}

function sunset(w: number, h: number) {
  const rand = random(7);
  const horizon = h * 0.6;
  const sunX = w * 0.56;
  let glints = '';
  for (let i = 0; i < 38; i++) {
    const y = horizon + 6 + i * i * 0.3;
    const half = 30 + i * 4 + rand() * 40;
    glints += `<rect x="${r1(sunX - half + (rand() - 0.5) * 40)}" y="${r1(y)}" width="${r1(half * 2)}" height="${r1(2 + i * 0.12)}" rx="2" opacity="${r1(0.9 - i * 0.02)}"/>`;
  }
  let birds = '';
  for (const [bx, by, s] of [
    [0.2, 0.22, 1],
    [0.24, 0.25, 0.8],
    [0.27, 0.2, 0.7],
    [0.72, 0.3, 0.6],
  ] as const) {
    const x = bx * w;
    const y = by * h;
    const k = 18 * s;
    birds += `<path d="M${r1(x - k)} ${r1(y)} q${r1(k / 2)} ${r1(-k / 2)} ${r1(k)} 0 q${r1(k / 2)} ${r1(-k / 2)} ${r1(k)} 0"/>`;
  }
  return `
  <defs>
    ${vgrad('sky', [
      [0, '#24164a'],
      [0.35, '#6b2f6f'],
      [0.7, '#d9584a'],
      [1, '#f8b45c'],
    ])}
    ${vgrad('sea', [
      [0, '#c0604f'],
      [0.15, '#5a3560'],
      [1, '#150f2b'],
    ])}
    <radialGradient id="glow"><stop offset="0" stop-color="#ffe6a8" stop-opacity="0.9"/><stop offset="1" stop-color="#ffb45c" stop-opacity="0"/></radialGradient>
    <filter id="soft"><feGaussianBlur stdDeviation="6"/></filter>
  </defs>
  <rect width="${w}" height="${h}" fill="url(#sky)"/>
  <circle cx="${sunX}" cy="${horizon}" r="${h * 0.42}" fill="url(#glow)"/>
  <circle cx="${sunX}" cy="${horizon - h * 0.02}" r="${h * 0.085}" fill="#fff1c4"/>
  ${clouds(rand, w, h * 0.1, h * 0.4, 6, '#f08a6c', 2.2)}
  <g fill="#ffd98e" opacity="0.35" filter="url(#soft)">
    <ellipse cx="${w * 0.3}" cy="${h * 0.47}" rx="${w * 0.22}" ry="6"/>
    <ellipse cx="${w * 0.74}" cy="${h * 0.52}" rx="${w * 0.18}" ry="5"/>
  </g>
  <rect y="${horizon}" width="${w}" height="${h - horizon}" fill="url(#sea)"/>
  <g fill="#ffd27a">${glints}</g>
  ${ripples(rand, w, horizon, h, 140, '#f5a36b')}
  <path d="M0 ${horizon - h * 0.09} C ${w * 0.08} ${horizon - h * 0.12}, ${w * 0.16} ${horizon - h * 0.05}, ${w * 0.26} ${horizon} L0 ${horizon} Z" fill="#2a1636"/>
  <path d="M${w} ${horizon - h * 0.05} C ${w * 0.95} ${horizon - h * 0.06}, ${w * 0.9} ${horizon - h * 0.02}, ${w * 0.84} ${horizon} L${w} ${horizon} Z" fill="#2a1636"/>
  <g fill="none" stroke="#1d1030" stroke-width="4" stroke-linecap="round">${birds}</g>`;
}

function lake(w: number, h: number) {
  const rand = random(11);
  const shore = h * 0.58;
  const far = `<polygon points="${ridge(rand, w, h * 0.24, h * 0.44, shore, 40)}" fill="#a9bdd6"/>`;
  const peaks: [number, number, number][] = [
    [0.36, 0.16, 0.24],
    [0.82, 0.2, 0.22],
    [0.58, 0.26, 0.2],
    [0.12, 0.3, 0.18],
  ];
  let mountains = '';
  for (const [px, py, half] of peaks) {
    const x = px * w;
    const y = py * h;
    const hw = half * w;
    mountains += `<polygon fill="#6a82a1" points="${pts([
      [x - hw * 1.6, shore],
      [x - hw * 0.5, y + (shore - y) * 0.45],
      [x - hw * 0.2, y + (shore - y) * 0.2],
      [x, y],
      [x + hw * 0.3, y + (shore - y) * 0.25],
      [x + hw * 0.7, y + (shore - y) * 0.5],
      [x + hw * 1.6, shore],
    ])}"/>`;
    mountains += `<polygon fill="#4a6080" points="${pts([
      [x, y],
      [x + hw * 0.3, y + (shore - y) * 0.25],
      [x + hw * 0.7, y + (shore - y) * 0.5],
      [x + hw * 1.6, shore],
      [x + hw * 0.25, shore],
      [x + hw * 0.1, y + (shore - y) * 0.5],
    ])}"/>`;
    const d = (shore - y) * 0.2;
    mountains += `<polygon fill="#f4f7fb" points="${pts([
      [x, y],
      [x + hw * 0.3 * (d / ((shore - y) * 0.25)), y + d],
      [x + hw * 0.12, y + d * 0.7],
      [x, y + d * 0.95],
      [x - hw * 0.1, y + d * 0.65],
      [x - hw * 0.2, y + d],
    ])}"/>`;
  }
  let trees = '';
  for (let x = -10; x < w + 20; x += 9 + rand() * 14) trees += pine(x, shore + 4, 26 + rand() * 40, '#24402f');
  const land = `${far}${mountains}<g>${trees}</g>`;
  return `
  <defs>
    ${vgrad('sky', [
      [0, '#6fa6dc'],
      [0.6, '#bcd9f0'],
      [1, '#f3e6d3'],
    ])}
    ${vgrad('water', [
      [0, '#a7c0d8'],
      [0.5, '#6f8fb0'],
      [1, '#2e4d6b'],
    ])}
    <filter id="soft"><feGaussianBlur stdDeviation="10"/></filter>
    <filter id="reflect"><feGaussianBlur stdDeviation="2 5"/></filter>
    <clipPath id="lake"><rect y="${shore}" width="${w}" height="${h - shore}"/></clipPath>
  </defs>
  <rect width="${w}" height="${h}" fill="url(#sky)"/>
  ${clouds(rand, w, h * 0.05, h * 0.22, 4, '#ffffff', 1.6)}
  ${land}
  <rect y="${shore}" width="${w}" height="${h - shore}" fill="url(#water)"/>
  <g clip-path="url(#lake)"><g transform="translate(0 ${2 * shore + 6}) scale(1 -1)" opacity="0.55" filter="url(#reflect)">${land}</g></g>
  ${ripples(rand, w, shore + 8, h, 160, '#e6f0fa')}
  <path d="M0 ${h} L0 ${h * 0.84} C ${w * 0.1} ${h * 0.82}, ${w * 0.22} ${h * 0.9}, ${w * 0.34} ${h} Z" fill="#3b4a2c"/>
  <g stroke="#2c3820" stroke-width="3" fill="none">${Array.from({ length: 24 }, (_, i) => {
    const x = 10 + i * 14 + rand() * 8;
    return `<path d="M${r1(x)} ${h} q${r1(-6 + rand() * 12)} ${r1(-40 - rand() * 40)} ${r1(8 + rand() * 10)} ${r1(-90 - rand() * 50)}"/>`;
  }).join('')}</g>`;
}

function forest(w: number, h: number) {
  const rand = random(23);
  const layers: [number, number, string, number][] = [
    // [ground y, tree height, colour, spacing]: far rows paler (haze), near rows darker and bigger
    [h * 0.5, h * 0.12, '#b5cfb2', 14],
    [h * 0.57, h * 0.19, '#8fb491', 24],
    [h * 0.66, h * 0.28, '#5f8f69', 40],
  ];
  let out = '';
  for (const [ground, tall, colour, spacing] of layers) {
    let trees = '';
    for (let x = -spacing * rand(); x < w + spacing; x += spacing * (0.6 + rand() * 0.8)) {
      trees += pine(x, ground + rand() * 8, tall * (0.7 + rand() * 0.5), colour);
    }
    out += `<rect y="${r1(ground - tall * 0.12)}" width="${w}" height="${r1(h - ground + tall * 0.12)}" fill="${colour}"/>${trees}`;
  }
  // A meadow in front, a path winding into the trees, and big pines framing both sides.
  out += `<path d="M0 ${r1(h * 0.7)} C ${r1(w * 0.3)} ${r1(h * 0.66)}, ${r1(w * 0.7)} ${r1(h * 0.7)}, ${w} ${r1(h * 0.67)} L${w} ${h} L0 ${h} Z" fill="url(#meadow)"/>`;
  out += `<path d="M${r1(w * 0.38)} ${h} C ${r1(w * 0.46)} ${r1(h * 0.9)}, ${r1(w * 0.6)} ${r1(h * 0.84)}, ${r1(w * 0.52)} ${r1(h * 0.76)} C ${r1(w * 0.48)} ${r1(h * 0.72)}, ${r1(w * 0.5)} ${r1(h * 0.7)}, ${r1(w * 0.52)} ${r1(h * 0.69)} L ${r1(w * 0.535)} ${r1(h * 0.69)} C ${r1(w * 0.53)} ${r1(h * 0.71)}, ${r1(w * 0.54)} ${r1(h * 0.74)}, ${r1(w * 0.58)} ${r1(h * 0.77)} C ${r1(w * 0.7)} ${r1(h * 0.85)}, ${r1(w * 0.64)} ${r1(h * 0.93)}, ${r1(w * 0.6)} ${h} Z" fill="#c9b186"/>`;
  let flowers = '';
  for (let i = 0; i < 70; i++) {
    const y = h * 0.74 + rand() * h * 0.26;
    const colour = ['#f4e27a', '#ffffff', '#e9a0c4'][i % 3];
    flowers += `<circle cx="${r1(rand() * w)}" cy="${r1(y)}" r="${r1(2 + (y / h) * 4)}" fill="${colour}"/>`;
  }
  out += `<g opacity="0.85">${flowers}</g>`;
  for (const x of [w * 0.02, w * 0.1, w * 0.88, w * 0.97])
    out += pine(x, h * 1.02, h * (0.75 + rand() * 0.2), '#1f3a27', 0.3);
  let rays = '';
  for (let i = 0; i < 6; i++) {
    const x = w * (0.55 + i * 0.09);
    rays += `<polygon points="${pts([
      [x, 0],
      [x + 40 + i * 6, 0],
      [x - w * 0.45 + i * 30, h],
      [x - w * 0.52 + i * 20, h],
    ])}"/>`;
  }
  return `
  <defs>
    ${vgrad('sky', [
      [0, '#f7f3d9'],
      [0.5, '#dfead0'],
      [1, '#b8d3b0'],
    ])}
    ${vgrad('meadow', [
      [0, '#86ad5c'],
      [1, '#4e7a3a'],
    ])}
    <radialGradient id="sun" cx="0.8" cy="0.05" r="0.6"><stop offset="0" stop-color="#fff6cf" stop-opacity="0.95"/><stop offset="1" stop-color="#fff6cf" stop-opacity="0"/></radialGradient>
    <filter id="soft"><feGaussianBlur stdDeviation="14"/></filter>
  </defs>
  <rect width="${w}" height="${h}" fill="url(#sky)"/>
  <rect width="${w}" height="${h}" fill="url(#sun)"/>
  ${clouds(rand, w, h * 0.08, h * 0.25, 3, '#ffffff', 1.8)}
  ${out}
  <g fill="#fffbe0" opacity="0.14" filter="url(#soft)">${rays}</g>`;
}

function harbour(w: number, h: number) {
  const rand = random(5);
  const quay = h * 0.52;
  const water = h * 0.57;
  const colours = ['#d9664f', '#f2b45a', '#7fb6c9', '#f4ead8', '#8fbf8a', '#c98b6b', '#e7d27c', '#b7a2c9'];
  let houses = '';
  let x = -20;
  let n = 0;
  while (x < w) {
    const hw = 70 + rand() * 60;
    const hh = 90 + rand() * 90;
    const top = quay - hh;
    const colour = colours[n++ % colours.length];
    let windows = '';
    for (let wy = top + 22; wy < quay - 30; wy += 38)
      for (let wx = x + 14; wx < x + hw - 24; wx += 30)
        windows += `<rect x="${r1(wx)}" y="${r1(wy)}" width="14" height="20" fill="#3b4856" opacity="0.8"/>`;
    houses += `<rect x="${r1(x)}" y="${r1(top)}" width="${r1(hw)}" height="${r1(hh)}" fill="${colour}"/><polygon points="${pts(
      [
        [x - 4, top],
        [x + hw / 2, top - 24 - rand() * 36],
        [x + hw + 4, top],
      ],
    )}" fill="#7a3b32"/>${windows}`;
    x += hw + 2;
  }
  const town = `<g>${houses}</g><rect y="${quay}" width="${w}" height="${water - quay}" fill="#8a8680"/><rect y="${quay}" width="${w}" height="6" fill="#b2ada4"/>${Array.from(
    { length: 9 },
    (_, i) => `<rect x="${r1(60 + i * (w / 9))}" y="${r1(quay + 12)}" width="14" height="18" rx="4" fill="#3c3f44"/>`,
  ).join('')}`;
  const boat = (bx: number, by: number, s: number, hull: string, sail: boolean) => {
    const l = 190 * s;
    return `<g><path d="M${r1(bx)} ${r1(by - 30 * s)} L${r1(bx + l)} ${r1(by - 30 * s)} L${r1(bx + l * 0.88)} ${r1(by)} Q${r1(bx + l * 0.5)} ${r1(by + 12 * s)} ${r1(bx + l * 0.1)} ${r1(by)} Z" fill="${hull}"/><rect x="${r1(bx)}" y="${r1(by - 34 * s)}" width="${r1(l)}" height="${r1(5 * s)}" fill="#f7f3ea"/>${
      sail
        ? `<rect x="${r1(bx + l * 0.45)}" y="${r1(by - 250 * s)}" width="${r1(4 * s)}" height="${r1(220 * s)}" fill="#e9e4da"/><polygon points="${pts(
            [
              [bx + l * 0.47, by - 240 * s],
              [bx + l * 0.47, by - 48 * s],
              [bx + l * 0.9, by - 48 * s],
            ],
          )}" fill="#fbf8f1"/><polygon points="${pts([
            [bx + l * 0.44, by - 225 * s],
            [bx + l * 0.44, by - 48 * s],
            [bx + l * 0.12, by - 48 * s],
          ])}" fill="#efe8da"/>`
        : `<rect x="${r1(bx + l * 0.3)}" y="${r1(by - 70 * s)}" width="${r1(l * 0.38)}" height="${r1(38 * s)}" fill="#f4f1ea"/><rect x="${r1(bx + l * 0.34)}" y="${r1(by - 62 * s)}" width="${r1(l * 0.3)}" height="${r1(12 * s)}" fill="#35506a"/>`
    }</g>`;
  };
  const boats = [
    boat(w * 0.06, h * 0.74, 0.9, '#2f5d8a', true),
    boat(w * 0.36, h * 0.8, 1.1, '#b7412f', false),
    boat(w * 0.6, h * 0.72, 0.75, '#f2efe6', true),
    boat(w * 0.76, h * 0.88, 1.3, '#1f3b57', true),
  ].join('');
  return `
  <defs>
    ${vgrad('sky', [
      [0, '#5d96cf'],
      [0.7, '#b7d4ec'],
      [1, '#f4dcb4'],
    ])}
    ${vgrad('sea', [
      [0, '#4b8796'],
      [1, '#173f4f'],
    ])}
    <filter id="soft"><feGaussianBlur stdDeviation="9"/></filter>
    <filter id="reflect"><feGaussianBlur stdDeviation="1.5 6"/></filter>
    <clipPath id="harbour"><rect y="${water}" width="${w}" height="${h - water}"/></clipPath>
  </defs>
  <rect width="${w}" height="${h}" fill="url(#sky)"/>
  ${clouds(rand, w, h * 0.05, h * 0.2, 4, '#ffffff')}
  <polygon points="${ridge(rand, w, h * 0.2, h * 0.34, quay, 60)}" fill="#7e9f8c"/>
  ${town}
  <rect y="${water}" width="${w}" height="${h - water}" fill="url(#sea)"/>
  <g clip-path="url(#harbour)"><g transform="translate(0 ${2 * water}) scale(1 -1)" opacity="0.4" filter="url(#reflect)">${town}</g></g>
  ${ripples(rand, w, water + 6, h, 180, '#d6eef2')}
  ${boats}`;
}

function tabby(w: number, h: number) {
  const rand = random(3);
  const sill = h * 0.7;
  // The window: evening sky and roofs outside.
  const wx = w * 0.18;
  const wy = h * 0.08;
  const ww = w * 0.64;
  const wh = sill - wy;
  let roofs = '';
  for (let x = wx; x < wx + ww; x += 60 + rand() * 70) {
    const top = sill - 60 - rand() * 120;
    roofs += `<rect x="${r1(x)}" y="${r1(top)}" width="${r1(70 + rand() * 40)}" height="${r1(sill - top)}"/>`;
  }
  // The cat sits on the sill, seen from the side, looking out.
  const cx = w * 0.52;
  const body = `M${r1(cx - 150)} ${r1(sill)} C ${r1(cx - 190)} ${r1(sill - 120)}, ${r1(cx - 120)} ${r1(sill - 300)}, ${r1(cx + 10)} ${r1(sill - 310)} C ${r1(cx + 110)} ${r1(sill - 300)}, ${r1(cx + 150)} ${r1(sill - 150)}, ${r1(cx + 120)} ${r1(sill)} Z`;
  let stripes = '';
  for (let i = 0; i < 7; i++) {
    const y = sill - 270 + i * 36;
    stripes += `<path d="M${r1(cx - 160)} ${r1(y + 30)} Q${r1(cx - 40)} ${r1(y - 10)} ${r1(cx + 40)} ${r1(y + 6)} Q ${r1(cx + 90)} ${r1(y + 14)} ${r1(cx + 160)} ${r1(y - 6)}"/>`;
  }
  const headX = cx + 40;
  const headY = sill - 330;
  return `
  <defs>
    ${vgrad('wall', [
      [0, '#efe1cc'],
      [1, '#d9c2a3'],
    ])}
    ${vgrad('outside', [
      [0, '#5b7fb8'],
      [0.55, '#e9a98a'],
      [1, '#f8d59b'],
    ])}
    ${vgrad('fur', [
      [0, '#e59a4e'],
      [1, '#c7732f'],
    ])}
    <radialGradient id="light" cx="0.5" cy="0.45" r="0.6"><stop offset="0" stop-color="#ffe8c2" stop-opacity="0.55"/><stop offset="1" stop-color="#ffe8c2" stop-opacity="0"/></radialGradient>
    <clipPath id="cat"><path d="${body}"/></clipPath>
    <filter id="soft"><feGaussianBlur stdDeviation="8"/></filter>
  </defs>
  <rect width="${w}" height="${h}" fill="url(#wall)"/>
  <rect x="${r1(wx)}" y="${r1(wy)}" width="${r1(ww)}" height="${r1(wh)}" fill="url(#outside)"/>
  <circle cx="${r1(wx + ww * 0.7)}" cy="${r1(sill - 90)}" r="46" fill="#ffe2a6"/>
  <g fill="#6c5a73">${roofs}</g>
  <g fill="#f7f1e6"><rect x="${r1(wx - 22)}" y="${r1(wy - 22)}" width="${r1(ww + 44)}" height="22"/><rect x="${r1(wx - 22)}" y="${r1(wy)}" width="22" height="${r1(wh)}"/><rect x="${r1(wx + ww)}" y="${r1(wy)}" width="22" height="${r1(wh)}"/><rect x="${r1(wx + ww / 2 - 9)}" y="${r1(wy)}" width="18" height="${r1(wh)}"/><rect x="${r1(wx)}" y="${r1(wy + wh * 0.42)}" width="${r1(ww)}" height="14"/></g>
  <rect width="${w}" height="${h}" fill="url(#light)"/>
  <rect x="${r1(wx - 60)}" y="${r1(sill)}" width="${r1(ww + 120)}" height="34" rx="4" fill="#fbf7ef"/>
  <rect x="${r1(wx - 60)}" y="${r1(sill + 34)}" width="${r1(ww + 120)}" height="10" fill="#cdb99b"/>
  <g transform="translate(${r1(cx)} ${r1(sill)}) scale(1.3) translate(${r1(-cx)} ${r1(-sill)})">
  <ellipse cx="${r1(cx)}" cy="${r1(sill + 4)}" rx="190" ry="10" fill="#6b5640" opacity="0.3" filter="url(#soft)"/>
  <path d="M${r1(cx - 140)} ${r1(sill - 8)} C ${r1(cx - 260)} ${r1(sill - 4)}, ${r1(cx - 290)} ${r1(sill - 90)}, ${r1(cx - 230)} ${r1(sill - 150)}" fill="none" stroke="#c7732f" stroke-width="34" stroke-linecap="round"/>
  <path d="M${r1(cx - 140)} ${r1(sill - 8)} C ${r1(cx - 260)} ${r1(sill - 4)}, ${r1(cx - 290)} ${r1(sill - 90)}, ${r1(cx - 230)} ${r1(sill - 150)}" fill="none" stroke="#9d5420" stroke-width="34" stroke-dasharray="18 26" stroke-linecap="butt"/>
  <path d="${body}" fill="url(#fur)"/>
  <g clip-path="url(#cat)" fill="none" stroke="#9d5420" stroke-width="14" stroke-linecap="round" opacity="0.85">${stripes}</g>
  <ellipse cx="${r1(cx + 30)}" cy="${r1(sill - 210)}" rx="58" ry="80" fill="#f3c894"/>
  <ellipse cx="${r1(cx - 10)}" cy="${r1(sill - 14)}" rx="40" ry="16" fill="#f1c089"/><ellipse cx="${r1(cx + 80)}" cy="${r1(sill - 14)}" rx="42" ry="16" fill="#f1c089"/>
  <polygon points="${pts([
    [headX - 70, headY - 30],
    [headX - 62, headY - 120],
    [headX - 10, headY - 62],
  ])}" fill="#d8843c"/>
  <polygon points="${pts([
    [headX + 30, headY - 64],
    [headX + 78, headY - 118],
    [headX + 84, headY - 28],
  ])}" fill="#d8843c"/>
  <polygon points="${pts([
    [headX + 42, headY - 66],
    [headX + 72, headY - 100],
    [headX + 74, headY - 44],
  ])}" fill="#f0b0a0"/>
  <ellipse cx="${r1(headX)}" cy="${r1(headY)}" rx="96" ry="84" fill="#e08c42"/>
  <g fill="none" stroke="#9d5420" stroke-width="10" stroke-linecap="round">
    <path d="M${r1(headX - 20)} ${r1(headY - 78)} l 6 34"/><path d="M${r1(headX + 2)} ${r1(headY - 82)} l 2 38"/><path d="M${r1(headX + 24)} ${r1(headY - 78)} l -4 34"/>
    <path d="M${r1(headX - 92)} ${r1(headY + 4)} l 30 4"/><path d="M${r1(headX + 92)} ${r1(headY + 4)} l -30 4"/>
  </g>
  <ellipse cx="${r1(headX - 34)}" cy="${r1(headY - 2)}" rx="15" ry="18" fill="#8fb34a"/><ellipse cx="${r1(headX + 34)}" cy="${r1(headY - 2)}" rx="15" ry="18" fill="#8fb34a"/>
  <ellipse cx="${r1(headX - 34)}" cy="${r1(headY - 2)}" rx="5" ry="15" fill="#1c1a14"/><ellipse cx="${r1(headX + 34)}" cy="${r1(headY - 2)}" rx="5" ry="15" fill="#1c1a14"/>
  <ellipse cx="${r1(headX)}" cy="${r1(headY + 40)}" rx="42" ry="28" fill="#f4d2a6"/>
  <polygon points="${pts([
    [headX - 11, headY + 22],
    [headX + 11, headY + 22],
    [headX, headY + 34],
  ])}" fill="#d9747a"/>
  <g stroke="#fff6e6" stroke-width="2.5" opacity="0.85"><path d="M${r1(headX - 30)} ${r1(headY + 38)} l -80 -12"/><path d="M${r1(headX - 30)} ${r1(headY + 46)} l -82 6"/><path d="M${r1(headX + 30)} ${r1(headY + 38)} l 80 -12"/><path d="M${r1(headX + 30)} ${r1(headY + 46)} l 82 6"/></g>
  </g>
  <g transform="translate(${r1(w * 0.8)} ${r1(sill)})"><path d="M-44 0 L-54 -90 L54 -90 L44 0 Z" fill="#c8674a"/><g fill="#4f8a4a">${Array.from(
    { length: 9 },
    (_, i) =>
      `<ellipse cx="0" cy="-150" rx="16" ry="70" transform="rotate(${-60 + i * 15} 0 -90)" opacity="${r1(0.8 + rand() * 0.2)}"/>`,
  ).join('')}</g></g>`;
}

const scenes: Record<Scene, (w: number, h: number) => string> = { sunset, lake, forest, harbour, tabby };

/** The scene as an SVG document, `width`×`height`. */
export function sceneSvg(scene: Scene, width = 1600, height = 1067): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${scenes[scene](width, height)}</svg>`;
}

/** The scene rendered to a photo-sized image (1600×1067, 3:2, unless told) in the given format. */
export async function sceneImage(
  scene: Scene,
  format: ImageFormat,
  { width = 1600, height = 1067 }: { width?: number; height?: number } = {},
): Promise<Buffer> {
  const image = sharp(Buffer.from(sceneSvg(scene, width, height))).flatten({ background: '#ffffff' });
  if (format === 'jpeg') return image.jpeg({ quality: 86 }).toBuffer();
  if (format === 'webp') return image.webp({ quality: 82 }).toBuffer();
  return image.png({ compressionLevel: 6 }).toBuffer();
}

/** The format a file name asks for (by its extension). */
export const formatOf = (name: string): ImageFormat =>
  /\.jpe?g$/i.test(name) ? 'jpeg' : /\.webp$/i.test(name) ? 'webp' : 'png';
