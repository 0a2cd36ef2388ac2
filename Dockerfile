# syntax=docker/dockerfile:1
# Tagdrop: API, jobs, downloads and both SPAs in one image, running compiled JavaScript with production dependencies
# only. `docker compose up` runs it with PostgreSQL and Redis (see docker-compose.yml).

# 1. Build: every dependency (Vite, esbuild, turbo), the SPAs and the API's dist/.
FROM node:20-bookworm-slim AS build
WORKDIR /app
ENV CI=true \
    TURBO_TELEMETRY_DISABLED=1 \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false
# The whole tree (minus .dockerignore): every workspace's package.json must be present for `npm ci`.
COPY . .
RUN npm ci --include=dev \
 && npm run build:spa \
 && npm run build -w @tagdrop/api

# 2. Production dependencies of the API alone (its workspace packages are bundled into dist/, so only their
#    third-party dependencies are needed): no Vite, React, TypeScript, tsx, esbuild, vitest or turbo.
FROM node:20-bookworm-slim AS deps
WORKDIR /app
ENV NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false
COPY package.json package-lock.json ./
COPY apps/api/package.json apps/api/
COPY apps/web/package.json apps/web/
COPY apps/admin/package.json apps/admin/
COPY packages/db/package.json packages/db/
COPY packages/contracts/package.json packages/contracts/
RUN npm ci --omit=dev --workspace=@tagdrop/api \
 && mkdir -p apps/api/node_modules \
 && npm cache clean --force

# 3. Runtime: node, the production node_modules, dist/ and the built SPAs; owned by root, run as `node`.
FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATA_DIR=/data
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=deps /app/apps/api/node_modules ./apps/api/node_modules
# package.json: "type": "module" for dist/*.js.
COPY --from=build /app/package.json ./
COPY --from=build /app/apps/api/package.json ./apps/api/
COPY --from=build /app/apps/api/dist ./apps/api/dist
COPY --from=build /app/apps/web/dist ./apps/web/dist
COPY --from=build /app/apps/admin/dist ./apps/admin/dist
# State lives in /data only (files, and with no DATABASE_URL the embedded database and the generated secret).
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
STOPSIGNAL SIGTERM
WORKDIR /app/apps/api
# No npm or tsx in between: signals reach the server directly. The worker: `node dist/worker.js`; the CLIs:
# `node dist/cli/admin-create.js --email you@example.com`, `node dist/cli/migrate.js`, `node dist/cli/jobs-run.js <job>`.
CMD ["node", "dist/main.js"]
