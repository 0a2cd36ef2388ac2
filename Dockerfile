# syntax=docker/dockerfile:1
# Tagdrop: API, jobs, downloads and both SPAs in one image. `docker compose up` runs it with PostgreSQL and Redis.

FROM node:20-bookworm-slim AS build
WORKDIR /app
ENV CI=true \
    TURBO_TELEMETRY_DISABLED=1 \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false
# The whole tree (minus .dockerignore): every workspace's package.json must be present for `npm ci`.
COPY . .
# Dev dependencies are needed: the SPAs are built with Vite, and the API runs from TypeScript through tsx.
RUN npm ci --include=dev \
 && npm run build:spa \
 && npm cache clean --force

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATA_DIR=/data \
    NPM_CONFIG_UPDATE_NOTIFIER=false
WORKDIR /app
COPY --from=build --chown=node:node /app /app
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
STOPSIGNAL SIGTERM
# What `npm start` runs once the SPAs are built, without npm in between (signals reach the server directly).
WORKDIR /app/apps/api
CMD ["node", "--import", "tsx", "src/main.ts"]
