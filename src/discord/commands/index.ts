import type { MessageCommand, SlashCommand } from '../context.ts';
import { ask } from './ask.ts';
import { askFromMessage } from './askFromMessage.ts';
import { gaps } from './gaps.ts';
import { reindex } from './reindex.ts';
import { sources } from './sources.ts';

export const commands: readonly SlashCommand[] = [ask, sources, reindex, gaps];

export const messageCommands: readonly MessageCommand[] = [askFromMessage];
