# syntax=docker/dockerfile:1
# carbonscope: build with the dev dependencies, run with the production ones only.
# The same image runs the app (default command) and the mock LLM (see docker-compose.yml).
# Debian slim, not Alpine: onnxruntime-node's prebuilt binaries need glibc.
# Node 24 (LTS): Node 20 reached its end of life on 2026-04-30. The suite runs the built service
# on Node 24 (test/integration/node24-service.test.ts); the machine that builds it has Node 20,
# and `engines` still allows 20.19 and later.
ARG NODE_IMAGE=node:24.22-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
# .npmrc carries onnxruntime-node-install=skip: the CPU binaries ship inside the npm package,
# and the install script would otherwise try to download GPU ones.
# The library is an npm workspace: its package.json must be there before npm ci links it.
COPY package.json package-lock.json .npmrc ./
COPY packages/carbonscope/package.json ./packages/carbonscope/
# npm links the `carbonscope` command only if its file is there when it installs.
COPY packages/carbonscope/bin ./packages/carbonscope/bin
RUN npm ci --no-audit --no-fund
COPY tsconfig.base.json tsconfig.json ./
COPY packages/carbonscope ./packages/carbonscope
COPY src ./src
COPY tools ./tools
RUN npm run build && npm prune --omit=dev

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8001
WORKDIR /app
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
# Of the tools, only compose's traffic generator runs in the image; the rest (dashboards, model
# training) import dev dependencies that npm prune removed.
COPY --from=build /app/dist/tools/traffic.js ./dist/tools/
COPY --from=build /app/dist/tools/predict/rng.js ./dist/tools/predict/
# node_modules/carbonscope links here: the library's compiled code, its data, package.json and
# the command's bin (`npx carbonscope impacts …` in the container).
COPY --from=build /app/packages/carbonscope/package.json ./packages/carbonscope/
COPY --from=build /app/packages/carbonscope/bin ./packages/carbonscope/bin
COPY --from=build /app/packages/carbonscope/dist/src ./packages/carbonscope/dist/src
COPY --from=build /app/packages/carbonscope/data ./packages/carbonscope/data
# Models, data and static files are read from src/ at run time (sourceAsset), never from dist/:
# e.g. the /predict model in src/predict/model/ (activity-mlp.onnx, committed; no download).
COPY --from=build /app/src ./src
# The node images ship an unprivileged user "node" (uid 1000); the files stay root-owned and
# read-only to it. By number: Kubernetes' runAsNonRoot refuses to start an image whose USER is a
# name ("cannot verify user is non-root").
USER 1000:1000
EXPOSE 8001 8002
# No curl in slim images: Node's own fetch asks /healthz.
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8001)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/src/server.js"]
