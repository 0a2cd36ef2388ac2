/**
 * REDIS_URL names one Redis server (`redis://[user:password@]host:port[/db]`, `rediss://` for TLS) or a Redis
 * Cluster by some of its nodes: `redis+cluster://[user:password@]host:port,host:port,...` (`rediss+cluster://`
 * for TLS). The nodes listed are only where discovery starts; the client learns the rest from the cluster.
 */
export type RedisTarget =
  | { kind: 'server'; url: string }
  | {
      kind: 'cluster';
      nodes: { host: string; port: number }[];
      username: string | undefined;
      password: string | undefined;
      tls: boolean;
    };

const CLUSTER = /^(rediss?)\+cluster:\/\/(?:([^@/]*)@)?([^/?#]+)\/?$/i;
const NODE = /^(\[[0-9a-f:.]+\]|[^:,[\]]+):(\d{1,5})$/i;

/** The target a REDIS_URL names, or an Error saying what is wrong with it. */
export function parseRedisUrl(value: string): RedisTarget | Error {
  const cluster = CLUSTER.exec(value);
  if (cluster) {
    const [, scheme, auth, list] = cluster as unknown as [string, string, string | undefined, string];
    const nodes: { host: string; port: number }[] = [];
    for (const part of list.split(',')) {
      const node = NODE.exec(part.trim());
      const port = Number(node?.[2]);
      if (!node || port < 1 || port > 65535) return new Error(`"${part}" is not host:port`);
      nodes.push({ host: (node[1] as string).replace(/^\[|\]$/g, ''), port });
    }
    const colon = auth?.indexOf(':') ?? -1;
    const decode = (s: string | undefined) => (s ? decodeURIComponent(s) : undefined);
    return {
      kind: 'cluster',
      nodes,
      username: decode(colon >= 0 ? auth?.slice(0, colon) : auth),
      password: decode(colon >= 0 ? auth?.slice(colon + 1) : undefined),
      tls: scheme.toLowerCase() === 'rediss',
    };
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return new Error('is not a URL');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    return new Error('must start with redis://, rediss://, redis+cluster:// or rediss+cluster://');
  }
  return { kind: 'server', url: value };
}
