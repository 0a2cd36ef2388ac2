/**
 * docker-compose.yml, as the compose engine would read it (no engine here): every setting it hands the app is a
 * name env.ts reads, and with the defaults (plus the two values .env must give) each mode — local, the s3
 * profile's MinIO, the nginx profile — is a configuration the API accepts; the profiles, non-root users,
 * healthchecks and volumes are where the README says; nginx's service matches deploy/nginx.conf.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../src/env.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const read = (f: string) => readFileSync(path.join(repo, f), 'utf8');

interface Service {
  image?: string;
  build?: string;
  profiles?: string[];
  user?: string;
  command?: string[];
  ports?: string[];
  environment?: Record<string, string | number>;
  volumes?: string[];
  healthcheck?: { test?: string[]; disable?: boolean };
  depends_on?: Record<string, { condition: string; required?: boolean }>;
}

/** Compose interpolation: ${VAR}, ${VAR:-default} (unset or empty), ${VAR-default} (unset), ${VAR:?error}. */
function interpolate(text: string, dotenv: Record<string, string>): string {
  return text.replace(/\$\{([A-Z0-9_]+)(?:(:?)([-?])([^}]*))?\}/g, (_m, name: string, colon, op, arg: string) => {
    const value = dotenv[name];
    const missing = value === undefined || (colon === ':' && value === '');
    if (!missing) return value as string;
    if (op === '?') throw new Error(`${name}: ${arg}`);
    return op === '-' ? arg : '';
  });
}

/** Compose reads the YAML first, then interpolates its string values (so `KEY: ${X:-}` is an empty string). */
function interpolateAll(value: unknown, dotenv: Record<string, string>): unknown {
  if (typeof value === 'string') return interpolate(value, dotenv);
  if (Array.isArray(value)) return value.map((v) => interpolateAll(v, dotenv));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolateAll(v, dotenv)]));
  }
  return value;
}

function compose(dotenv: Record<string, string>) {
  return interpolateAll(parse(read('docker-compose.yml'), { merge: true }), dotenv) as {
    services: Record<string, Service>;
    volumes: Record<string, unknown>;
  };
}

const required = { SECRET_KEY: 'x'.repeat(48), EMAIL_HOST: 'smtp.example.com' };
const appConfig = (dotenv: Record<string, string>) => {
  const env = compose({ ...required, ...dotenv }).services.app?.environment ?? {};
  return loadConfig(Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)])));
};

describe('docker-compose.yml', () => {
  it('refuses to start without SECRET_KEY and EMAIL_HOST (a message names them)', () => {
    expect(() => compose({ EMAIL_HOST: 'smtp.example.com' })).toThrow(/SECRET_KEY/);
    expect(() => compose({ SECRET_KEY: 'x'.repeat(48) })).toThrow(/EMAIL_HOST/);
  });

  it('hands the app and the worker only settings that env.ts reads', () => {
    const envSource = read('apps/api/src/env.ts');
    const { services } = compose(required);
    for (const name of ['app', 'worker']) {
      for (const key of Object.keys(services[name]?.environment ?? {})) {
        expect(envSource, `${name}: ${key}`).toMatch(new RegExp(`^ {2}${key}: `, 'm'));
      }
    }
  });

  it('each mode is a configuration the API accepts: local, s3 (MinIO), nginx, AWS S3', () => {
    const local = appConfig({});
    expect(local).toMatchObject({ STORAGE_DRIVER: 'local', storageDir: '/data/files', isProduction: true });
    expect(local.DOWNLOAD_ACCEL).toBeUndefined();
    const s3 = appConfig({ STORAGE_DRIVER: 's3' });
    expect(s3).toMatchObject({
      STORAGE_DRIVER: 's3',
      S3_ENDPOINT: 'http://minio:9000',
      S3_BUCKET: 'tagdrop',
      S3_FORCE_PATH_STYLE: true,
      S3_REQUEST_CHECKSUM: 'when_supported',
    });
    expect(appConfig({ DOWNLOAD_ACCEL: 'nginx', TRUST_PROXY: 'true' }).DOWNLOAD_ACCEL).toBe('nginx');
    const aws = appConfig({
      STORAGE_DRIVER: 's3',
      S3_ENDPOINT: '',
      S3_FORCE_PATH_STYLE: 'false',
      S3_REGION: 'eu-west-1',
    });
    expect(aws.S3_ENDPOINT).toBeUndefined();
    expect(aws.S3_FORCE_PATH_STYLE).toBe(false);
  });

  it('profiles: MinIO and its bucket job under s3, nginx under nginx; the app waits for the bucket if there is one', () => {
    const { services } = compose(required);
    expect(services.minio?.profiles).toEqual(['s3']);
    expect(services['minio-setup']?.profiles).toEqual(['s3']);
    expect(services.nginx?.profiles).toEqual(['nginx']);
    for (const always of ['app', 'worker', 'postgres', 'redis']) expect(services[always]?.profiles).toBeUndefined();
    expect(services.app?.depends_on?.['minio-setup']).toEqual({
      condition: 'service_completed_successfully',
      required: false,
    });
    expect(services['minio-setup']?.command).toContain('tagdrop/tagdrop');
    const minioEnv = services.minio?.environment ?? {};
    const s3 = appConfig({ STORAGE_DRIVER: 's3' });
    expect([minioEnv.MINIO_ROOT_USER, minioEnv.MINIO_ROOT_PASSWORD]).toEqual([
      s3.S3_ACCESS_KEY_ID,
      s3.S3_SECRET_ACCESS_KEY,
    ]);
    expect(String(minioEnv.MINIO_ROOT_PASSWORD).length).toBeGreaterThanOrEqual(8);
  });

  it('nginx runs deploy/nginx.conf in front of the app, reading the files volume read-only where the conf says', () => {
    const { services } = compose(required);
    const nginx = services.nginx as Service;
    expect(nginx.volumes).toEqual(['./deploy/nginx.conf:/etc/nginx/conf.d/default.conf:ro', 'data:/data:ro']);
    const conf = read('deploy/nginx.conf');
    expect(conf).toContain('server app:3000;');
    expect(conf).toContain('listen 8080;');
    expect(nginx.ports).toEqual(['8080:8080']);
    expect(conf).toContain(`alias ${appConfig({}).storageDir}/;`);
    expect(conf).toContain(`location ${appConfig({}).DOWNLOAD_ACCEL_PREFIX} {`);
    expect(nginx.depends_on?.app?.condition).toBe('service_healthy');
  });

  it('state only in named volumes; healthchecks everywhere but the worker and the one-shot job', () => {
    const { services, volumes } = compose(required);
    expect(Object.keys(volumes).sort()).toEqual(['data', 'minio', 'postgres', 'redis']);
    for (const [name, service] of Object.entries(services)) {
      for (const volume of service.volumes ?? []) {
        const source = volume.split(':')[0] as string;
        expect(source === './deploy/nginx.conf' || source in volumes, `${name}: ${volume}`).toBe(true);
      }
    }
    // The app's healthcheck is the image's HEALTHCHECK; the worker has no HTTP port.
    expect(read('Dockerfile')).toMatch(/^HEALTHCHECK .*\n.*\/healthz/m);
    expect(services.worker?.healthcheck).toEqual({ disable: true });
    for (const name of ['postgres', 'redis', 'minio', 'nginx']) expect(services[name]?.healthcheck?.test).toBeTruthy();
    expect(services.worker?.command).toEqual(['node', 'dist/worker.js']);
  });
});

describe('Dockerfile', () => {
  it('runs the compiled entry as a non-root user, with production dependencies only, /data the only volume', () => {
    const dockerfile = read('Dockerfile');
    const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    expect(runtime).toMatch(/^USER node$/m);
    expect(runtime).toMatch(/^WORKDIR \/app\/apps\/api$/m);
    expect(runtime).toMatch(/^CMD \["node", "dist\/main\.js"\]$/m);
    expect(runtime).toMatch(/^VOLUME \["\/data"\]$/m);
    const instructions = runtime.split('\n').filter((line) => !line.startsWith('#'));
    expect(instructions.join('\n')).not.toMatch(/tsx/);
    expect(dockerfile).toMatch(/npm ci --omit=dev --workspace=@tagdrop\/api/);
    // Every workspace's package.json is there for `npm ci` in the dependencies stage.
    const pkg = JSON.parse(read('package.json')) as { workspaces: string[] };
    expect(pkg.workspaces).toEqual(['packages/*', 'apps/*']);
    for (const ws of ['apps/api', 'apps/web', 'apps/admin', 'packages/db', 'packages/contracts']) {
      expect(dockerfile).toContain(`COPY ${ws}/package.json ${ws}/`);
    }
  });
});
