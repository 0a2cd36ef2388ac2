import type { Lock, Locker, RequestRelease } from '@tus/utils';

/**
 * Wraps the tus locker (in-process or shared) so that a shutdown can ask every request holding an upload lock
 * to finish now, through the lock's own release callback (the one @tus/server gives a competing request). The
 * library then ends the request body gracefully after its `lockDrainTimeout`: the bytes received so far are
 * stored, the PATCH answers 204 with its new Upload-Offset, and the lock is released. The client resumes from
 * there, on this instance once it is back or on another one.
 */
export class DrainingLocker implements Locker {
  private readonly holders = new Set<RequestRelease>();
  private draining = false;

  constructor(private readonly inner: Locker) {}

  /** Locks held right now. */
  get held(): number {
    return this.holders.size;
  }

  newLock(id: string): Lock {
    const lock = this.inner.newLock(id);
    let holder: RequestRelease | undefined;
    return {
      lock: async (signal, requestRelease) => {
        await lock.lock(signal, requestRelease);
        holder = requestRelease;
        this.holders.add(holder);
        if (this.draining) release(holder); // it came in while the server was stopping
      },
      unlock: async () => {
        try {
          await lock.unlock();
        } finally {
          if (holder) this.holders.delete(holder);
          holder = undefined;
        }
      },
    };
  }

  /** From now on every holder (and every later one) is asked to finish and let go. */
  drain(): void {
    this.draining = true;
    for (const holder of this.holders) release(holder);
  }
}

const release = (holder: RequestRelease) => void Promise.resolve(holder()).catch(() => {});
