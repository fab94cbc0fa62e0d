import { appendGap, readJsonLines, type GapEntry } from './gapLog.ts';
import { groupGaps, type GapTopic } from './groupGaps.ts';

/** A "Not helpful" vote as the bot's feedback log holds it. */
export interface NotHelpfulVote {
  readonly time: string;
  readonly question: string;
  readonly sources: readonly string[];
}

export interface GapReport {
  readonly since: string;
  /** Unanswered topics, most asked first. */
  readonly topics: readonly GapTopic[];
  /** Questions whose answer someone marked "Not helpful", newest first. */
  readonly notHelpful: readonly NotHelpfulVote[];
}

export interface GapSources {
  readonly gapsLog: string;
  readonly feedbackLog: string;
  readonly embed: (texts: readonly string[]) => Promise<Float32Array[]>;
}

/** What the sources missed since `since`: declined and low-confidence questions grouped by topic, and "Not helpful" votes. */
export async function gapReport(sources: GapSources, since: Date): Promise<GapReport> {
  const after = (time: string | undefined) => time !== undefined && Date.parse(time) >= since.getTime();
  const gaps = (await readJsonLines<GapEntry>(sources.gapsLog)).filter((entry) => typeof entry.question === 'string' && after(entry.at));
  const vectors = gaps.length > 0 ? await sources.embed(gaps.map((entry) => entry.question)) : [];
  const topics = groupGaps(gaps.map((entry, i) => ({ question: entry.question, at: entry.at, vector: vectors[i]! })));
  const notHelpful = (await readJsonLines<NotHelpfulVote & { verdict?: string }>(sources.feedbackLog))
    .filter((vote) => vote.verdict === 'not_helpful' && after(vote.time))
    .map(({ time, question, sources: cited }) => ({ time, question, sources: cited ?? [] }))
    .sort((a, b) => b.time.localeCompare(a.time));
  return { since: since.toISOString(), topics, notHelpful };
}

export { appendGap };
