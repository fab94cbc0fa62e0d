import { randomBytes } from 'node:crypto';

/** What a button under an answer needs to know about it; custom ids are too short to carry a question. */
export interface AnswerContext {
  readonly question: string;
  /** Quotes shown so far, so "More quotes" continues after them. */
  readonly shown: number;
  readonly sources: string[];
}

/** Remembers recent answers by short id, forgetting the oldest past `capacity`. */
export class AnswerStore {
  private readonly entries = new Map<string, AnswerContext>();
  private readonly voters = new Map<string, Set<string>>();

  constructor(private readonly capacity = 1000) {}

  put(context: AnswerContext): string {
    const id = randomBytes(6).toString('base64url');
    this.entries.set(id, context);
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value!;
      this.entries.delete(oldest);
      this.voters.delete(oldest);
    }
    return id;
  }

  /** Records that `userId` voted on answer `id`; false when they already had. */
  vote(id: string, userId: string): boolean {
    const voters = this.voters.get(id) ?? new Set<string>();
    if (voters.has(userId)) return false;
    voters.add(userId);
    this.voters.set(id, voters);
    return true;
  }

  get(id: string): AnswerContext | undefined {
    return this.entries.get(id);
  }
}
