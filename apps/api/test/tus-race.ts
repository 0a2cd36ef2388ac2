/**
 * The race of issue 10: two clients send a PATCH for the same upload at the same offset at once, each through its
 * own instance (or both through one). Whatever the lock, exactly one may be told 204 and the other 409 or 423;
 * the stored bytes are the winner's (who may have been asked to let go early and then resumes, as tus clients do).
 */
import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { bearer, createRawUpload, download, latePatch, sha256, tusRaw } from './files-helpers.js';

type Instance = { url: string };

export async function raceTwoPatches(options: {
  /** The instances the two PATCHes go through (A and B). */
  through: readonly [Instance, Instance];
  /** Where the upload is created, checked and downloaded (may be a third instance). */
  via: Instance;
  token: string;
  runs: number;
  size?: number;
  /** Extra checks after each run, with the upload id. */
  afterRun?: (id: string) => Promise<void>;
}): Promise<string[]> {
  const { through, via, token, size = 2 * 1024 * 1024 } = options;
  const outcomes: string[] = [];
  for (let run = 0; run < options.runs; run++) {
    const url = new URL(await createRawUpload(via, token, size, { filename: `race-${run}.bin` }));
    const id = url.pathname.split('/').pop() as string;
    const bodies = [randomBytes(size), randomBytes(size)] as const;
    // Who is sent first alternates, so neither side is favoured by the order of the calls.
    const order = run % 2 === 0 ? ([0, 1] as const) : ([1, 0] as const);
    const statuses: number[] = [];
    await Promise.all(
      order.map(async (i) => {
        statuses[i] = await latePatch(`${through[i].url}${url.pathname}`, token, 0, bodies[i]);
      }),
    );
    let outcome = `A ${statuses[0]} / B ${statuses[1]}`;
    expect(statuses.filter((s) => s === 204)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409 || s === 423)).toHaveLength(1);
    const winner = bodies[statuses.indexOf(204)] as Buffer;
    const head = await tusRaw(via, 'HEAD', url.pathname, { token });
    const offset = Number(head.headers.get('upload-offset'));
    if (offset < size) {
      const more = await tusRaw(via, 'PATCH', url.pathname, {
        token,
        headers: { 'upload-offset': String(offset), 'content-type': 'application/offset+octet-stream' },
        body: winner.subarray(offset),
      });
      expect(more.status).toBe(204);
      outcome += ` (winner cut at ${offset}, resumed)`;
    }
    const stored = await download(`${via.url}/f/${id}`, bearer(token));
    expect(stored.status).toBe(200);
    expect(sha256(stored.body)).toBe(sha256(winner));
    await options.afterRun?.(id);
    outcomes.push(outcome);
  }
  return outcomes;
}
