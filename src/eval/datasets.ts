import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { isHit, isSentenceHit } from './metrics.ts';

/**
 * The evaluation sets: the public ones in ../shared/eval (never copied into the repository) and
 * Docent's own seed questions in eval/. Each question is scored either by answer strings
 * (SQuAD style: a gold string appears in a quote) or by gold sentences (a quote is, or lies
 * inside, one of them).
 */
export const SHARED_EVAL = path.resolve('..', 'shared', 'eval');

export interface EvalQuestion {
  readonly id: string;
  readonly question: string;
  /** The article the question was written about, as a source id, when known. */
  readonly article?: string;
  /** False when the indexed sources do not answer it. */
  readonly answerable: boolean;
  readonly answers?: readonly string[];
  readonly goldSentences?: readonly string[];
}

export interface EvalSet {
  readonly name: string;
  readonly articlesDir: string;
  readonly questions: EvalQuestion[];
}

const squadLine = z.object({ id: z.string(), question: z.string(), article_file: z.string(), answers: z.array(z.string()).min(1) });
const sentenceLine = z.object({
  id: z.string(),
  question: z.string(),
  article_file: z.string().optional(),
  gold_sentences: z.array(z.string()),
  in_scope: z.boolean(),
});
const offTopicLine = z.object({ id: z.string(), question: z.string() });
/**
 * Docent's own tuning questions: natural wording about the tuning half of new_wiki. An answerable
 * one has gold answer strings; a `related` one is about an article that does not answer it; an
 * `off-topic` one is about nothing the articles cover.
 */
const tuningLine = z.union([
  z.object({ id: z.string(), question: z.string(), article_file: z.string(), answers: z.array(z.string()).min(1) }).strict(),
  z.object({ id: z.string(), question: z.string(), article_file: z.string(), kind: z.literal('related') }).strict(),
  z.object({ id: z.string(), question: z.string(), kind: z.literal('off-topic') }).strict(),
]);

async function readJsonl<T>(file: string, schema: z.ZodType<T>): Promise<T[]> {
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new Error(`Cannot read ${file} (${error.code ?? error.message}); the eval needs ../shared beside the repository.`);
  });
  return text
    .split('\n')
    .map((line, i) => ({ line, number: i + 1 }))
    .filter(({ line }) => line.trim() !== '')
    .map(({ line, number }) => {
      const parsed = schema.safeParse(JSON.parse(line));
      if (!parsed.success) throw new Error(`${file}:${number}: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
      return parsed.data;
    });
}

/**
 * new_wiki is split by article: even-numbered articles (000_, 002_, …) are for tuning, odd-numbered
 * ones for reporting, so no reported figure comes from an article anything was fitted on.
 */
export function isTuningArticle(articleFile: string): boolean {
  const number = /^(\d+)_/.exec(articleFile)?.[1];
  if (number === undefined) throw new Error(`new_wiki article file without a number: ${articleFile}`);
  return Number(number) % 2 === 0;
}

export async function newWiki(root = SHARED_EVAL): Promise<EvalSet> {
  const dir = path.join(root, 'squadshifts-new-wiki');
  const lines = await readJsonl(path.join(dir, 'questions.jsonl'), squadLine);
  return {
    name: 'new_wiki',
    articlesDir: path.join(dir, 'articles'),
    questions: lines.map((q) => ({ id: q.id, question: q.question, article: q.article_file, answerable: true, answers: q.answers })),
  };
}

export async function covidQa(root = SHARED_EVAL): Promise<EvalQuestion[]> {
  const lines = await readJsonl(path.join(root, 'out-of-scope-covidqa.jsonl'), offTopicLine);
  return lines.map((q) => ({ id: q.id, question: q.question, answerable: false }));
}

async function sentenceSet(name: string, questionsFile: string, articlesDir: string): Promise<EvalSet> {
  const lines = await readJsonl(questionsFile, sentenceLine);
  return {
    name,
    articlesDir,
    questions: lines.map((q) => ({
      id: q.id,
      question: q.question,
      ...(q.article_file ? { article: q.article_file } : {}),
      answerable: q.in_scope,
      goldSentences: q.gold_sentences,
    })),
  };
}

export function wikiQa(root = SHARED_EVAL): Promise<EvalSet> {
  const dir = path.join(root, 'wikiqa');
  return sentenceSet('WikiQA dev', path.join(dir, 'questions.jsonl'), path.join(dir, 'articles'));
}

/**
 * Natural questions written like the tuning ones, on the tuning articles, that `npm run fit` does not
 * read (eval/README.md): the eval reports them as questions in people's own words never fitted on.
 */
export const THIRD_BATCH_FILE = path.resolve('eval', 'tuning-questions-third-batch.jsonl');

/**
 * Docent's own natural tuning questions (eval/tuning-questions.jsonl), asked of the new_wiki index:
 * only about its tuning-half articles, so nothing reported is fitted on them.
 */
export async function naturalTuningQuestions(file = path.resolve('eval', 'tuning-questions.jsonl')): Promise<EvalQuestion[]> {
  const lines = await readJsonl(file, tuningLine);
  return lines.map((line): EvalQuestion => {
    if ('article_file' in line && !isTuningArticle(line.article_file))
      throw new Error(`${file}: ${line.id} is about a reporting-half article (${line.article_file})`);
    if ('answers' in line) return { id: line.id, question: line.question, article: line.article_file, answerable: true, answers: line.answers };
    return { id: line.id, question: line.question, ...('article_file' in line ? { article: line.article_file } : {}), answerable: false };
  });
}

/** Docent's own natural questions about sources/, written before anything was fitted. */
export function seedQuestions(questionsFile = path.resolve('eval', 'seed-questions.jsonl'), articlesDir = path.resolve('sources')): Promise<EvalSet> {
  return sentenceSet('seed questions', questionsFile, articlesDir);
}

/** Whether the first `k` quotes hold the answer, by whichever gold the question has. */
export function quotesHit(question: EvalQuestion, quotes: readonly string[], k: number): boolean {
  if (question.answers) return isHit(quotes, question.answers, k);
  return isSentenceHit(quotes, question.goldSentences ?? [], k);
}
