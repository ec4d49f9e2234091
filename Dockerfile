# syntax=docker/dockerfile:1
# ApprovalMatrix: the compiled server (node dist/main.js), the admin app and the `approvalmatrix` CLI.
# Built with the same commands CI runs (pnpm install --frozen-lockfile, pnpm build). Not built or run
# on the project's own machines (they have no container engine): see README "Containers".

FROM node:20-bookworm-slim AS build
WORKDIR /src
RUN npm install -g pnpm@10.34.9
COPY . .
RUN pnpm install --frozen-lockfile \
 && pnpm build \
 && pnpm --filter @approvalmatrix/web deploy --prod --legacy /out \
 && cp -r apps/web/dist apps/web/build /out/

FROM node:20-bookworm-slim
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000 DATA_DIR=/app/data
WORKDIR /app
COPY --from=build --chown=node:node /out ./
RUN mkdir -p /app/data && chown node:node /app/data \
 && chmod +x dist/cli.js && ln -s /app/dist/cli.js /usr/local/bin/approvalmatrix
USER node
EXPOSE 3000
# Readiness, not liveness: 503 while the database or Redis does not answer, and during a shutdown.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT}/readyz`).then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
STOPSIGNAL SIGTERM
CMD ["node", "--enable-source-maps", "--max-semi-space-size=32", "dist/main.js"]
