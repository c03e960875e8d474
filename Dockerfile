# Vigil as a container: the TypeScript sources run as they are (tsx is a runtime dependency,
# `bin/vigil.js` registers it), so there is no build stage. See docs/deploy.md.
#
#   docker build -t vigil .
#   docker run -d --name vigil -p 8080:8080 -v vigil-data:/data \
#     -e VIGIL_TOKENS="ops:$(openssl rand -hex 32):admin" vigil
#
# The image binds 0.0.0.0, and the server refuses a public bind without VIGIL_TOKENS: without
# them the container exits at once with status 1 and says so.

FROM node:20-bookworm-slim

ENV NODE_ENV=production
WORKDIR /app

# tini, the init that runs the server (ENTRYPOINT below); the slim image has none.
RUN apt-get update && apt-get install -y --no-install-recommends tini && rm -rf /var/lib/apt/lists/*

# Dependencies first, so that a change to the sources does not reinstall them. The native
# libsql binding comes prebuilt for linux-x64/arm64 glibc: nothing is compiled.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# Everything `vigil serve` reads at run time: the launcher, the sources (the drizzle
# migrations and the writer thread's worker are under src/storage/), the tsconfig tsx
# compiles with, and the bundled policies.
COPY tsconfig.json ./
COPY bin ./bin
COPY src ./src
COPY rules ./rules

# The database lives on a volume owned by the unprivileged user the server runs as. The
# files above stay root's: the server cannot rewrite its own code.
RUN mkdir -p /data && chown node:node /data

ENV VIGIL_HOST=0.0.0.0 \
    VIGIL_PORT=8080 \
    VIGIL_DB_URL=file:/data/vigil.db \
    VIGIL_RULES_DIR=/app/rules

VOLUME /data
EXPOSE 8080
USER node

# Ready means recovery is done and the database answers. Slim images have no curl: node's
# fetch asks, on the port the server binds (a wildcard bind answers on loopback).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "const h=(process.env.VIGIL_HOST||'0.0.0.0').replace(/^\\[(.*)\\]$/,'$1');const host=h==='0.0.0.0'||h==='::'?'127.0.0.1':h.includes(':')?'['+h+']':h;fetch('http://'+host+':'+(process.env.VIGIL_PORT||8080)+'/readyz').then((r)=>process.exit(r.ok?0:1),()=>process.exit(1))"]

# SIGTERM drains (VIGIL_DRAIN_TIMEOUT, 10 s by default): give `docker stop` longer than that.
STOPSIGNAL SIGTERM
# tini is PID 1 and runs node (not npm, not a shell), passing the signal on to the server. Node
# reaps only the processes it spawned: the orphans of the process driver's trees (VIGIL_DRIVERS)
# would stay zombies under a node that is PID 1, and tini reaps them. `-s` makes it a subreaper,
# so that it still does where it is not PID 1 (`docker run --init`, Fly's own init).
ENTRYPOINT ["tini", "-s", "--"]
CMD ["node", "--max-semi-space-size=32", "bin/vigil.js", "serve"]
