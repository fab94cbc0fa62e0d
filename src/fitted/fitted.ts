import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { EVIDENCE, type DecisionModels } from '../answer/decide.ts';
import { FEATURES, RERANK_FEATURES, type Rankers } from '../retrieval/search.ts';

/**
 * The fitted parts of Docent: ranking weights and the two decision models, written by
 * `npm run fit` (src/eval/fit.ts) from tuning data only. This schema documents the file and
 * validates it when it is read.
 */
const logisticSchema = z
  .object({
    features: z.array(z.enum(EVIDENCE)).min(1),
    mean: z.array(z.number()),
    scale: z.array(z.number().positive()),
    weights: z.array(z.number()),
    bias: z.number(),
    threshold: z.number().min(0).max(1),
  })
  .refine(
    (m) => m.mean.length === m.features.length && m.scale.length === m.features.length && m.weights.length === m.features.length,
    'mean, scale and weights must have one entry per feature',
  );

const decisionSetSchema = z.object({ related: logisticSchema, answers: logisticSchema, relatedIfUnfamiliar: z.number().min(0).max(1) });

export const fittedSchema = z.object({
  /** What the numbers were fitted on and how to reproduce them. */
  description: z.string(),
  command: z.string(),
  /** The first pass: weights of each candidate's features. */
  ranking: z.object(Object.fromEntries(FEATURES.map((name) => [name, z.number()])) as Record<(typeof FEATURES)[number], z.ZodNumber>),
  /** The re-ranking of the first pass's best: weights of those and the word-piece evidence. */
  reranking: z.object(Object.fromEntries(RERANK_FEATURES.map((name) => [name, z.number()])) as Record<(typeof RERANK_FEATURES)[number], z.ZodNumber>),
  /** The decision models; `withoutWordPieces`, the same fitted without the word-piece evidence (see `DecisionModels`). */
  decision: decisionSetSchema.extend({ withoutWordPieces: decisionSetSchema }),
  /** Figures on the tuning data itself, for a re-run to compare against. */
  tuning: z.record(z.string(), z.union([z.number(), z.string()])),
});

export type Fitted = z.infer<typeof fittedSchema>;

export const FITTED_FILE = fileURLToPath(new URL('./fitted.json', import.meta.url));

export function parseFitted(text: string, file = FITTED_FILE): Fitted {
  const result = fittedSchema.safeParse(JSON.parse(text));
  if (!result.success)
    throw new Error(`${file} is not a valid fitted-model file: ${result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
  return result.data;
}

let cached: (Rankers & { decision: DecisionModels }) | undefined;

/** The committed fitted models, read and validated once. */
export function fittedModels(): Rankers & { decision: DecisionModels } {
  cached ??= parseFitted(readFileSync(FITTED_FILE, 'utf8'));
  return cached;
}
