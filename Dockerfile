# syntax=docker/dockerfile:1
# kq: one image for the API, the workers and the metrics adapter. The mode comes from the arguments
# (`kq worker`, `kq api`, ...) or, as in the seed, from the env: WORKER=1 runs a worker, EXIT=1 makes it
# exit once the queue is empty.
#
# Node 24 (LTS, security support until 2028-04-30); .ci/run runs the tests on the same major.
# test/k8s/image-build.test.ts plays this file without Docker: every file a stage needs must be COPY'd.

# 1. Compile TypeScript and bundle with the dev dependencies (`npm run build` = tsc + scripts/bundle.mjs).
FROM node:24-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/bundle.mjs ./scripts/
COPY src ./src
RUN npm run build

# 2. Production dependencies only, from the same lock file, minus what a pod never loads:
#    --omit=optional drops typescript (23 MB: an optional peer of valibot, kept in the lock file because
#    it is our dev dependency) and the uninstall drops kubernetes-models (20 MB with its helpers), which
#    only `kq manifests` uses; in the image that command says to run it from a checkout or with npx.
#    The npm cache stays in the cache mount, out of the layer.
FROM node:24-bookworm-slim AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --omit=optional --no-audit --no-fund \
 && npm uninstall --no-save --omit=dev --omit=optional --no-audit --no-fund \
      kubernetes-models @kubernetes-models/base @kubernetes-models/apimachinery @kubernetes-models/keda

# 3. Runtime: node, the bundle and production dependencies; no npm in the entrypoint, no root.
FROM node:24-bookworm-slim
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="kq" \
      org.opencontainers.image.description="A Kubernetes-native job queue for TypeScript, built on BullMQ" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.base.name="docker.io/library/node:24-bookworm-slim"
ENV NODE_ENV=production
WORKDIR /app
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
# Node's compile cache (V8 code for every module a start loads), written here once at build time, so a
# pod, whose root filesystem is read-only, reads compiled code instead of compiling the bundle on every
# start. Owned by the runtime user, which warms it below; with NODE_COMPILE_CACHE set Node uses it from
# the first module on.
ENV NODE_COMPILE_CACHE=/app/.node-compile-cache
RUN mkdir -p .node-compile-cache && chown 10001:10001 .node-compile-cache
# A numeric user so Kubernetes' runAsNonRoot can verify it without /etc/passwd.
USER 10001:10001
# Each command's `--help` loads that command's code (and its dependencies) without connecting anywhere.
# Relative paths: WORKDIR is /app, and test/helpers/play-dockerfile.ts maps only the WORKDIR.
RUN for c in worker api keda-scaler metrics-adapter; do \
      NODE_COMPILE_CACHE=.node-compile-cache node dist/cli.js "$c" --help > /dev/null || exit 1; \
    done
EXPOSE 8080 8081 6443
# Node runs as PID 1 directly (no shell, no npm), so SIGTERM reaches kq's own handlers.
ENTRYPOINT ["node", "/app/dist/cli.js"]
