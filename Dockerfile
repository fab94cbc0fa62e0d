# Docent, the Discord bot, in a container: `docker build -t docent .`, then
#   docker run -d --name docent --env-file .env -v docent-index:/app/index -v docent-cache:/app/.cache \
#     -v docent-data:/app/data -v "$PWD/sources:/app/sources:ro" docent
# The index, the converted model and the logs live in volumes, so a new image keeps them.
FROM node:20-slim

WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev && npm cache clean --force
COPY bin ./bin
COPY src ./src
COPY tsconfig.json ./

RUN mkdir -p index .cache data sources && chown -R node:node index .cache data
USER node
VOLUME ["/app/index", "/app/.cache", "/app/data"]

# The bot rewrites HEALTH_FILE every 30 s while connected to Discord; three missed beats is unhealthy.
HEALTHCHECK --interval=30s --timeout=5s --start-period=5m --retries=3 \
  CMD node -e "const f=process.env.HEALTH_FILE||'data/health.json';const s=require('fs').statSync(f);process.exit(Date.now()-s.mtimeMs<90000?0:1)"

# node itself is the process Docker signals (no npm or shell in between to swallow SIGTERM); the
# bot handles SIGTERM, so it shuts down cleanly even as PID 1.
CMD ["node", "--import", "tsx", "src/discord/main.ts"]
