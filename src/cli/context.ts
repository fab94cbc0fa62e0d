import dotenv from 'dotenv';
import { engineConfigSchema, type EngineConfig } from '../config/schema.ts';
import { parseConfig } from '../config/load.ts';
import type { EngineEvent } from '../docent.ts';
import { engineEventText } from '../wording/engine.ts';

/** Settings for one CLI run: `.env`, then the environment, then flags (highest wins). */
export function cliConfig(flags: Partial<Record<keyof EngineConfig, unknown>>): EngineConfig {
  dotenv.config({ quiet: true });
  return parseConfig(engineConfigSchema, process.env, flags);
}

export const stderrLog = (message: string): void => {
  process.stderr.write(`${message}\n`);
};

/** The engine's progress reports, told on stderr. */
export const stderrEvents = (event: EngineEvent): void => stderrLog(engineEventText(event));
