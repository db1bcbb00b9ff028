# One image for the gateway and the four subgraphs; docker-compose.yml picks each entry point.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY gateway/package.json gateway/
COPY schema/package.json schema/
COPY ops/package.json ops/
COPY test/package.json test/
COPY subgraphs/runtime/package.json subgraphs/runtime/
COPY subgraphs/identity/package.json subgraphs/identity/
COPY subgraphs/accounting/package.json subgraphs/accounting/
COPY subgraphs/documents/package.json subgraphs/documents/
COPY subgraphs/audit/package.json subgraphs/audit/
RUN npm ci --no-audit --no-fund
COPY . .
RUN npx turbo run build && npm prune --omit=dev
# The documents service's file store: a volume mounted here starts out owned by the service user.
RUN mkdir -p .data/document-files

FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build --chown=node:node /app /app
USER node
# Overridden per service in docker-compose.yml.
CMD ["node", "gateway/dist/main.js"]
