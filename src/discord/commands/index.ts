import type { SlashCommand } from '../context.ts';
import { ask } from './ask.ts';
import { reindex } from './reindex.ts';
import { sources } from './sources.ts';

export const commands: readonly SlashCommand[] = [ask, sources, reindex];
