/**
 * The embedded database's socket server (@electric-sql/pglite-socket 0.2) serves every connection from one PGlite
 * session, message by message, and keeps a connection's turn only inside a transaction (electric-sql/pglite#1046).
 * But each parameterized query of `pg` is several messages (Parse, Bind, Describe, Execute, Sync) outside any
 * transaction: another connection's Parse in between replaces the unnamed statement ("bind message supplies 9
 * parameters, but prepared statement "" requires 11", or rows of the other query). keepTurnsUntilReady gives a
 * connection the session from its first message until PGlite answers ReadyForQuery outside a transaction, and
 * lets the others wait their turn. Development only: production uses a real PostgreSQL (DATABASE_URL).
 */

interface QueryQueue {
  enqueue(handlerId: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number>;
  clearQueueForHandler(handlerId: number): void;
}

/** ReadyForQuery: 'Z', length 5, then the transaction status: 'I' idle, 'T' in a transaction, 'E' failed one. */
const READY_IDLE = [0x5a, 0, 0, 0, 5, 0x49];

export function keepTurnsUntilReady(server: object): void {
  const queue = (server as { queryQueue?: QueryQueue }).queryQueue;
  if (typeof queue?.enqueue !== 'function' || typeof queue.clearQueueForHandler !== 'function') {
    throw new Error('pglite-socket: its query queue is not where this version keeps it; check keepTurnsUntilReady');
  }
  const enqueue = queue.enqueue.bind(queue);
  const clear = queue.clearQueueForHandler.bind(queue);
  let holder: number | null = null;
  let waiting: (() => void)[] = [];
  const release = () => {
    holder = null;
    const wake = waiting;
    waiting = [];
    for (const resume of wake) resume();
  };
  queue.enqueue = async (handlerId, message, onData) => {
    while (holder !== null && holder !== handlerId) await new Promise<void>((resume) => waiting.push(resume));
    holder = handlerId;
    // The last bytes of the answer: a ReadyForQuery ends the answer to a Sync or a simple Query.
    let tail: number[] = [];
    try {
      const sent = await enqueue(handlerId, message, (data) => {
        tail = [...tail, ...data.subarray(Math.max(0, data.length - READY_IDLE.length))].slice(-READY_IDLE.length);
        onData(data);
      });
      if (tail.length === READY_IDLE.length && tail.every((b, i) => b === READY_IDLE[i])) release();
      return sent;
    } catch (err) {
      release();
      throw err;
    }
  };
  queue.clearQueueForHandler = (handlerId) => {
    clear(handlerId);
    if (holder === handlerId) release(); // the connection went away in the middle of its turn
  };
}
