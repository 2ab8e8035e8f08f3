# syntax=docker/dockerfile:1
# kq: one image for the API, the workers and the metrics adapter. The mode comes from the arguments
# (`kq worker`, `kq api`, ...) or, as in the seed, from the env: WORKER=1 runs a worker, EXIT=1 makes it
# exit once the queue is empty.

# 1. Compile TypeScript with the dev dependencies.
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# 2. Production dependencies only, installed from the same lock file.
FROM node:20-bookworm-slim AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# 3. Runtime: node, the compiled code and production dependencies; no npm in the entrypoint, no root.
FROM node:20-bookworm-slim
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="kq" \
      org.opencontainers.image.description="A Kubernetes-native job queue for TypeScript, built on BullMQ" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.base.name="docker.io/library/node:20-bookworm-slim"
ENV NODE_ENV=production
WORKDIR /app
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
# A numeric user so Kubernetes' runAsNonRoot can verify it without /etc/passwd.
USER 10001:10001
EXPOSE 8080 8081 6443
# Node runs as PID 1 directly (no shell, no npm), so SIGTERM reaches kq's own handlers.
ENTRYPOINT ["node", "/app/dist/cli.js"]
