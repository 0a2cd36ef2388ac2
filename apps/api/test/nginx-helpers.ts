/**
 * Debian's nginx, started by a test or bench itself: its own prefix, config and free port, in the foreground
 * (`daemon off`), stopped by its PID; never the system service. `startEdge` runs the committed deploy/nginx.conf
 * in front of an API (DOWNLOAD_ACCEL=nginx), `startStatic` serves a directory directly (the bench's yardstick).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { promises as fs, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './process-helpers.js';

export const NGINX = process.env.NGINX_BIN ?? '/usr/sbin/nginx';
const deployConf = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../deploy/nginx.conf');

export interface Nginx {
  url: string;
  pid: number;
  /** nginx's error log so far. */
  errors(): Promise<string>;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function run(serverBlock: (port: number, dir: string) => string): Promise<Nginx> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tagdrop-nginx-'));
  const port = await freePort();
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `${t}_temp_path ${dir}/${t};`).join(' ');
  await fs.writeFile(path.join(dir, 'server.conf'), serverBlock(port, dir));
  await fs.writeFile(
    path.join(dir, 'nginx.conf'),
    `worker_processes 1;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  default_type application/octet-stream;
  ${temp}
  include ${dir}/server.conf;
}
`,
  );
  const child: ChildProcess = spawn(
    NGINX,
    [
      '-p',
      dir,
      '-c',
      path.join(dir, 'nginx.conf'),
      '-e',
      path.join(dir, 'error.log'),
      '-g',
      `daemon off; pid ${dir}/nginx.pid;`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const errors = () => fs.readFile(path.join(dir, 'error.log'), 'utf8').catch(() => '');
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`nginx exited: ${stderr}${await errors()}`);
    const up = await fetch(`${url}/_nginx_up`, { signal: AbortSignal.timeout(1000) }).then(
      () => true,
      () => false,
    );
    if (up) break;
    if (i > 100) throw new Error(`nginx did not come up: ${stderr}${await errors()}`);
    await sleep(100);
  }
  return {
    url,
    pid: child.pid as number,
    errors,
    async stop() {
      if (child.exitCode === null) {
        process.kill(child.pid as number, 'SIGTERM');
        await exited;
      }
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

/** deploy/nginx.conf with the API's address, a free port and the API's STORAGE_DIR (and optionally its prefix). */
export function startEdge(options: { apiUrl: string; storageDir: string; prefix?: string }): Promise<Nginx> {
  return run((port) => {
    const conf = readDeployConf()
      .replace('server app:3000;', `server ${new URL(options.apiUrl).host};`)
      .replace('listen 8080;', `listen 127.0.0.1:${port};`)
      .replace('alias /data/files/;', `alias ${options.storageDir.replace(/\/?$/, '/')};`);
    return options.prefix ? conf.replace('location /_protected/ {', `location ${options.prefix} {`) : conf;
  });
}

let deployText: string | undefined;
function readDeployConf(): string {
  deployText ??= readFileSync(deployConf, 'utf8');
  return deployText;
}

/** nginx serving `root` directly under /files/ by sendfile (no API in front). */
export function startStatic(root: string): Promise<Nginx> {
  return run(
    (port) => `server {
  listen 127.0.0.1:${port};
  sendfile on;
  tcp_nopush on;
  location /files/ { alias ${root.replace(/\/?$/, '/')}; }
}
`,
  );
}
