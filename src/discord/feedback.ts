import { createHash } from 'node:crypto';
import { appendFile, mkdir } from 'node:fs/promises';
import path from 'node:path';

export type Verdict = 'helpful' | 'not_helpful';

export interface FeedbackEntry {
  readonly time: string;
  readonly question: string;
  /** Source ids of the quotes the verdict is about. */
  readonly sources: string[];
  readonly verdict: Verdict;
  /** Salted hash: lets admins see repeat voters without storing who they are. */
  readonly user: string;
}

export function hashUserId(userId: string, salt: string): string {
  return createHash('sha256').update(`${salt}:${userId}`).digest('hex').slice(0, 16);
}

/** Appends one JSON line per vote; never rewrites earlier lines. */
export function feedbackLog(file: string, salt: string) {
  return {
    async record(entry: Omit<FeedbackEntry, 'user' | 'time'> & { userId: string; time?: Date }): Promise<FeedbackEntry> {
      const line: FeedbackEntry = {
        time: (entry.time ?? new Date()).toISOString(),
        question: entry.question,
        sources: entry.sources,
        verdict: entry.verdict,
        user: hashUserId(entry.userId, salt),
      };
      await mkdir(path.dirname(file), { recursive: true });
      await appendFile(file, `${JSON.stringify(line)}\n`);
      return line;
    },
  };
}

export type FeedbackLog = ReturnType<typeof feedbackLog>;
