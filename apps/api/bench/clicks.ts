/**
 * Small-file downloads per second through /f/{id}, with click counting on vs off (the same server, the same
 * file; counting switched off by swapping recordClick for a no-op between rounds). Load comes from a worker
 * thread (its own event loop) with keep-alive connections. Ratio = on / off (goal >= 0.8).
 */
import { randomBytes } from 'node:crypto';
import type { StatsService } from '../src/modules/stats/stats.types.js';
import { startTestApp } from '../test/harness.js';
import { load, median } from './lib/load.js';

export async function benchClicks(options: { seconds?: number; rounds?: number; concurrency?: number } = {}) {
  const seconds = options.seconds ?? Number(process.env.BENCH_SECONDS ?? 3);
  const rounds = options.rounds ?? Number(process.env.BENCH_ROUNDS ?? 5);
  const concurrency = options.concurrency ?? 32;
  const app = await startTestApp({ LOG_LEVEL: 'warn', STATS_FLUSH_INTERVAL: '10 seconds' });
  try {
    const { access } = await app.login('bench-clicks@example.com');
    const form = new FormData();
    form.set('file', new Blob([new Uint8Array(randomBytes(1024))]), 'small.bin');
    form.set('is_public', 'true');
    const res = await fetch(`${app.url}/api/files/`, {
      method: 'POST',
      body: form,
      headers: { authorization: `Bearer ${access}` },
    });
    if (res.status !== 201) throw new Error(`upload answered ${res.status}`);
    const { id } = (await res.json()) as { id: string };
    const url = `${app.url}/f/${id}`;

    const counting: StatsService = app.deps.stats;
    const notCounting: StatsService = {
      ...counting,
      recordClick() {},
      clickIfCurrent: (id, token) => counting.clickIfCurrent(id, token, null),
    };
    app.deps.stats = notCounting;
    await load(url, 1, concurrency); // warm-up
    const rate = { on: [] as number[], off: [] as number[] };
    let counted = 0;
    for (let i = 0; i < rounds; i++) {
      app.deps.stats = notCounting;
      const off = await load(url, seconds, concurrency);
      rate.off.push(off.done / seconds);
      app.deps.stats = counting;
      const on = await load(url, seconds, concurrency);
      rate.on.push(on.done / seconds);
      counted += on.done;
      if (off.errors + on.errors > 0) throw new Error(`${off.errors + on.errors} failed downloads`);
    }
    // Every counted download is a click: check the total is exact.
    await new Promise((r) => setTimeout(r, 500));
    const stats = (await app.deps.stats.summaries([id])).get(id);
    const on = median(rate.on);
    const off = median(rate.off);
    console.log(`clicks: 1 KiB downloads, ${concurrency} connections, ${rounds} x ${seconds} s each way (median)`);
    console.log(`  counting off ${off.toFixed(0)} downloads/s`);
    console.log(`  counting on  ${on.toFixed(0)} downloads/s`);
    console.log(
      `  clicks counted ${stats?.clicks} for ${counted} downloads with counting on (exact: ${stats?.clicks === counted})`,
    );
    console.log(`clicks ratio on/off ${(on / off).toFixed(2)} (goal >= 0.8)`);
    return { on, off, ratio: on / off, counted, clicks: stats?.clicks };
  } finally {
    await app.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchClicks();
