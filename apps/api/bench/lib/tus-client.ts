/**
 * The client side of the parallel bench, run as its own process (the "client machine"): tus-js-client in
 * Node sends a file to Tagdrop through a shaping proxy that limits every TCP connection it carries to
 * RATE bytes per second towards the server, as on a path where one connection cannot fill the line
 * (long round trips, per-flow shaping). Prints one JSON line: {"seconds", "url"}.
 * Input (env BENCH_CLIENT, JSON): { target, token, file, parallel, rate }.
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import * as tus from 'tus-js-client';

interface Input {
  target: string;
  token: string;
  file: string;
  parallel: number;
  rate: number;
}

/** A TCP proxy to `target` that delivers at most `rate` bytes/s per connection from the client. */
function shapingProxy(target: URL, rate: number): Promise<{ url: string; close: () => void }> {
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname);
    let next = Date.now();
    client.on('data', (chunk: Buffer) => {
      client.pause();
      const now = Date.now();
      next = Math.max(now, next) + (chunk.length * 1000) / rate;
      setTimeout(() => {
        upstream.write(chunk);
        client.resume();
      }, next - now);
    });
    client.on('end', () => upstream.end());
    upstream.pipe(client);
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close);
    upstream.on('error', close);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      resolve({ url: `http://127.0.0.1:${port}`, close: () => server.close() });
    }),
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const input = JSON.parse(process.env.BENCH_CLIENT ?? '{}') as Input;
  const data = readFileSync(input.file);
  const proxy = await shapingProxy(new URL(input.target), input.rate);
  const started = process.hrtime.bigint();
  const url = await new Promise<string>((resolve, reject) => {
    // Every request goes through the proxy, also those to the URLs the server hands out (tus Location headers are
    // absolute, from PUBLIC_URL: the server's own address).
    const direct = new tus.DefaultHttpStack({});
    const origin = new URL(input.target).origin;
    const httpStack: tus.HttpStack = {
      createRequest: (method, url) => direct.createRequest(method, url.replace(origin, proxy.url)),
      getName: () => 'ShapedNodeHttpStack',
    };
    const upload = new tus.Upload(data, {
      endpoint: `${proxy.url}/uploads/`,
      httpStack,
      headers: { authorization: `Bearer ${input.token}` },
      metadata: { filename: 'parallel-bench.bin' },
      retryDelays: null as never,
      ...(input.parallel > 1 ? { parallelUploads: input.parallel } : {}),
      onSuccess: () => resolve(upload.url ?? ''),
      onError: reject,
    });
    upload.start();
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  proxy.close();
  console.log(JSON.stringify({ seconds, url }));
  process.exit(0);
}
