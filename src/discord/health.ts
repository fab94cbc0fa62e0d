import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Client } from 'discord.js';
import type { Logger } from 'pino';

/** How often the health file is rewritten while connected; a health check allows three missed beats. */
export const HEARTBEAT_MS = 30_000;

/**
 * Rewrites `file` with the time while the bot is connected to Discord, so a process manager's
 * health check (see the Dockerfile) can tell a live bot from a hung one by the file's age.
 */
export function startHeartbeat(client: Client, file: string, logger: Logger, everyMs = HEARTBEAT_MS): () => void {
  const beat = async () => {
    if (!client.isReady()) return;
    const temporary = `${file}.${process.pid}.tmp`;
    try {
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(temporary, `${JSON.stringify({ time: new Date().toISOString(), pid: process.pid })}\n`);
      await rename(temporary, file);
    } catch (error) {
      logger.warn({ err: error, file }, 'could not write the health file');
    }
  };
  const timer = setInterval(() => void beat(), everyMs);
  timer.unref();
  void beat();
  return () => clearInterval(timer);
}
