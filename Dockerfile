# syntax=docker/dockerfile:1
#
# Lockstep server / render-node image.
#
#   docker build -t lockstep .
#   docker run --init -p 3000:3000 -p 40000-40100:40000-40100/udp -p 40000-40100:40000-40100/tcp \
#     -e LOCKSTEP_ANNOUNCED_IP=<host LAN IP> -e LOCKSTEP_JOIN_TOKEN=<T> -v lockstep-data:/data lockstep server
#   docker run --init lockstep node --server http://<server>:3000 --token <T>
#   (T: a random secret, e.g. from `docker run --rm lockstep token new`; the owner
#   token is printed once in the server's first log lines, see SECURITY.md)
#
# A renderer node only (a spare PC; no mediasoup worker build, no SQLite):
#   docker build --target node -t lockstep-node .
#   docker run --init --network host lockstep-node --server http://<server>:3000 --token <T>
#
# The build stage repeats scripts/setup.sh step by step (minus chromium, iproute2,
# procps and etcd, which only the tests, benches and local demos use; a server
# given --store etcd: talks to an etcd cluster run elsewhere), and node-build
# repeats `scripts/setup.sh --node`. Keep them in sync: `npm run lint:docker`
# (scripts/lint-dockerfile.mjs) fails when an apt package list here drifts from
# APT_PKGS / NODE_APT_PKGS in scripts/setup.sh.

############################ build ############################
FROM node:20-bookworm AS build

# setup.sh "system packages": node-canvas compiles against cairo/pango/jpeg/gif/rsvg;
# build-essential + python3 build the mediasoup worker, which links libssl-dev's OpenSSL 3.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential pkg-config python3 libcairo2-dev libpango1.0-dev libjpeg-dev libgif-dev librsvg2-dev libssl-dev \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# setup.sh "npm dependencies": MEDIASOUP_WORKER_BIN set during `npm ci` makes
# mediasoup's postinstall skip its own (unpatched, failing) worker build. In the
# image the worker lives at a fixed path instead of setup.sh's ~/.cache location.
ENV MEDIASOUP_WORKER_BIN=/opt/mediasoup/mediasoup-worker
COPY package.json package-lock.json ./
COPY packages/ ./packages/
COPY scripts/ ./scripts/
RUN npm ci --no-audit --no-fund

# setup.sh "mediasoup worker": the patched 3.8.4 worker build (a few minutes).
RUN bash scripts/build-mediasoup-worker.sh "$MEDIASOUP_WORKER_BIN"

# Source, then setup.sh "viewer bundle" (minified for production).
COPY . .
RUN NODE_ENV=production npm run --silent build:viewer

# Runtime needs only dependencies (tsx is one): drop eslint, typescript, esbuild...
RUN npm prune --omit=dev --no-audit --no-fund

########################## node-build ##########################
# `scripts/setup.sh --node`: only the renderer node's npm dependencies (packages/node).
FROM node:20-bookworm AS node-build

RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential pkg-config python3 libcairo2-dev libpango1.0-dev libjpeg-dev libgif-dev librsvg2-dev \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY package.json package-lock.json ./
COPY packages/ ./packages/
RUN npm ci --workspace=@lockstep/node --include-workspace-root=false --no-audit --no-fund
COPY . .

############################# node #############################
# `docker build --target node`: a renderer node, nothing else.
FROM node:20-bookworm-slim AS node

RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libcairo2 libpango-1.0-0 libpangocairo-1.0-0 libjpeg62-turbo libgif7 librsvg2-2 \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY --from=node-build /app /app
ENV NODE_ENV=production
USER node
ENTRYPOINT ["node", "--import", "tsx", "bin/lockstep.ts", "node"]

############################ runtime ############################
FROM node:20-bookworm-slim AS runtime

# Shared libraries node-canvas links against (the -dev packages' runtime halves),
# and libssl3, the OpenSSL the mediasoup worker links.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libcairo2 libpango-1.0-0 libpangocairo-1.0-0 libjpeg62-turbo libgif7 librsvg2-2 libssl3 \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app

COPY --from=build /opt/mediasoup/mediasoup-worker /opt/mediasoup/mediasoup-worker
# /app = pruned node_modules + package*.json + tsconfig.json + source + the built
# viewer/dist (.dockerignore keeps node_modules, .git, data, bench/results out of
# the build context, so nothing from the host checkout leaks in).
COPY --from=build /app /app

RUN mkdir -p /data && chown node:node /data

# Configuration (server/config.ts reads these; override with `docker run -e`):
#   LOCKSTEP_HOST / LOCKSTEP_LISTEN_IP  listen on all interfaces inside the container.
#   LOCKSTEP_RTC_MIN_PORT..MAX_PORT     WebRTC (mediasoup) port range; must match EXPOSE
#                                       and the `-p` mappings (UDP, and TCP for ICE-TCP).
#   LOCKSTEP_ANNOUNCED_IP               NOT set here: the IP viewers can reach (host LAN or
#                                       public address) that mediasoup puts in its ICE
#                                       candidates. Without it the container's own address
#                                       is announced and remote viewers get no media.
#   LOCKSTEP_DATA_DIR                   SQLite database directory (a volume).
#   LOCKSTEP_JOIN_TOKEN                 NOT set here: required, the cluster join token.
ENV NODE_ENV=production \
    MEDIASOUP_WORKER_BIN=/opt/mediasoup/mediasoup-worker \
    LOCKSTEP_HOST=0.0.0.0 \
    LOCKSTEP_LISTEN_IP=0.0.0.0 \
    LOCKSTEP_RTC_MIN_PORT=40000 \
    LOCKSTEP_RTC_MAX_PORT=40100 \
    LOCKSTEP_DATA_DIR=/data

VOLUME ["/data"]
EXPOSE 3000/tcp
EXPOSE 40000-40100/udp
EXPOSE 40000-40100/tcp

USER node

# Node is PID 1 and spawns render processes and mediasoup workers: run with
# `docker run --init` (or an init in your orchestrator) so zombies are reaped.
ENTRYPOINT ["node", "--import", "tsx", "bin/lockstep.ts"]
CMD ["server"]
