import { appendFile, mkdir } from 'node:fs/promises';
import path from 'node:path';

/** One change to the sources: who made it, when, what, and how it ended. */
export interface AuditEntry {
  readonly at: string;
  /** Who asked: a Discord user (`discord:<id> (<name>)`) or a terminal user (`cli:<login>`). */
  readonly who: string;
  readonly action: 'add' | 'remove';
  /** The file, URL or source id acted on. */
  readonly what: string;
  readonly result: 'ok' | 'refused' | 'failed';
  readonly detail?: string;
}

export type AuditLog = (entry: Omit<AuditEntry, 'at'>) => Promise<void>;

/** An append-only JSON-lines audit log; one line per add or remove, written whole with one append. */
export function auditLog(file: string, now: () => Date = () => new Date()): AuditLog {
  return async (entry) => {
    await mkdir(path.dirname(file), { recursive: true });
    await appendFile(file, `${JSON.stringify({ at: now().toISOString(), ...entry })}\n`);
  };
}
