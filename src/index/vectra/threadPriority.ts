import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

/**
 * Lowers the priority of the calling thread alone to `niceness` (threads it starts afterwards
 * inherit it). Linux takes a thread id where other systems take a process id, so elsewhere this
 * does nothing and says so.
 */
export function lowerThreadPriority(niceness: number): boolean {
  try {
    const threadId = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isInteger(threadId)) return false;
    setPriority(threadId, niceness);
    return true;
  } catch {
    return false;
  }
}
