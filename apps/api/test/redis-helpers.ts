/**
 * A test's own redis-server on a free port (never the shared one), which the test can stop, start again,
 * freeze (SIGSTOP: the socket stays open but nothing answers) and thaw; a test's own 3-master Redis Cluster;
 * and key helpers that work on both. Servers are stopped by PID, also on failure.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, Socket } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { Cluster } from 'ioredis';
import type { RedisClient } from '../src/infra/redis.js';
import { freePort } from './process-helpers.js';

const run = promisify(execFile);

export interface OwnRedis {
  port: number;
  url: string;
  /** Stops the server (SIGKILL: like a crash or a lost host). */
  stop(): Promise<void>;
  /** Starts it again on the same port (empty: no persistence). */
  start(): Promise<void>;
  /** SIGSTOP: connections stay open, nothing answers. */
  freeze(): void;
  thaw(): void;
}

const ping = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
    socket.once('data', (d) => done(d.toString().startsWith('+PONG')));
  });

export async function waitForRedis(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ping(port))) {
    if (Date.now() > deadline) throw new Error(`redis-server on ${port} did not come up`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts redis-server with these extra arguments; resolves once it answers PING. */
export async function spawnRedis(port: number, args: string[] = [], cwd?: string): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...args], {
    stdio: 'ignore',
    cwd,
  });
  await waitForRedis(port);
  return child;
}

export async function killProcess(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGCONT');
  child.kill('SIGKILL');
  await exited;
}

export async function startOwnRedis(): Promise<OwnRedis> {
  const port = await freePort();
  let child: ChildProcess | undefined = await spawnRedis(port, ['--appendonly', 'no']);
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      await killProcess(child);
      child = undefined;
    },
    async start() {
      child ??= await spawnRedis(port, ['--appendonly', 'no']);
    },
    freeze: () => child?.kill('SIGSTOP'),
    thaw: () => child?.kill('SIGCONT'),
  };
}

/** Every key matching the pattern, on one server or on every master of a cluster (SCAN, never KEYS). */
export async function keysMatching(client: RedisClient, pattern: string): Promise<string[]> {
  const nodes = client instanceof Cluster ? client.nodes('master') : [client];
  const found: string[] = [];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      found.push(...keys);
    } while (cursor !== '0');
  }
  return found;
}

/** Deletes these keys one by one (on a cluster they may be in different slots); returns how many existed. */
export async function deleteKeys(client: RedisClient, keys: string[]): Promise<number> {
  let deleted = 0;
  for (const key of keys) deleted += await client.unlink(key);
  return deleted;
}

const isFree = (port: number) =>
  new Promise<boolean>((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });

export interface OwnRedisCluster {
  /** REDIS_URL of the cluster: `redis+cluster://127.0.0.1:a,127.0.0.1:b,127.0.0.1:c`. */
  url: string;
  ports: number[];
  stop(): Promise<void>;
}

/**
 * A real 3-master Redis Cluster of the machine's redis-server (`--cluster-enabled yes`, its own ports and node
 * files under /tmp), made with `redis-cli --cluster create … --cluster-replicas 0`; resolves once every node
 * says cluster_state:ok.
 */
export async function startRedisCluster(): Promise<OwnRedisCluster> {
  const dir = await mkdtemp('/tmp/tagdrop-redis-cluster-');
  const ports: number[] = [];
  while (ports.length < 3) {
    // Each node also listens on its port + 10000 (the cluster bus).
    const port = await freePort();
    if (port + 10_000 <= 65_535 && !ports.includes(port) && (await isFree(port + 10_000))) ports.push(port);
  }
  const children: ChildProcess[] = [];
  const stop = async () => {
    for (const child of children) await killProcess(child);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    for (const port of ports) {
      children.push(
        await spawnRedis(
          port,
          [
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            path.join(dir, `nodes-${port}.conf`),
            '--cluster-node-timeout',
            '2000',
            '--appendonly',
            'no',
          ],
          dir,
        ),
      );
    }
    await run('redis-cli', [
      '--cluster',
      'create',
      ...ports.map((p) => `127.0.0.1:${p}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ]);
    const deadline = Date.now() + 20_000;
    for (const port of ports) {
      for (;;) {
        const { stdout } = await run('redis-cli', ['-p', String(port), 'cluster', 'info']);
        if (stdout.includes('cluster_state:ok')) break;
        if (Date.now() > deadline) throw new Error(`redis cluster node ${port} is not ok:\n${stdout}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { url: `redis+cluster://${ports.map((p) => `127.0.0.1:${p}`).join(',')}`, ports, stop };
}
