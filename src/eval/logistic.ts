/**
 * The two small fits behind Docent's fitted models, by full-batch gradient descent on
 * standardised features with a little L2: a binary logistic regression (the decision models) and
 * a conditional logit (the ranker: a softmax over one question's candidates, maximising the
 * probability of the gold ones).
 */
export interface FitOptions {
  readonly l2?: number;
  readonly iterations?: number;
  readonly learningRate?: number;
  /** Keep every weight at 0 or above (projected gradient descent); the conditional logit only. */
  readonly nonNegative?: boolean;
}

export interface Standardised {
  readonly mean: number[];
  readonly scale: number[];
}

export function standardisation(rows: readonly (readonly number[])[]): Standardised {
  const width = rows[0]?.length ?? 0;
  const mean = Array.from({ length: width }, (_, j) => rows.reduce((sum, row) => sum + row[j]!, 0) / Math.max(1, rows.length));
  const scale = mean.map((m, j) => Math.sqrt(rows.reduce((sum, row) => sum + (row[j]! - m) ** 2, 0) / Math.max(1, rows.length)) || 1);
  return { mean, scale };
}

const standardise = (row: readonly number[], { mean, scale }: Standardised) => row.map((value, j) => (value - mean[j]!) / scale[j]!);
const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

export interface BinaryModel extends Standardised {
  readonly weights: number[];
  readonly bias: number;
}

/** `sampleWeights` (one per row, 1 by default) let a small set count as much as a large one. */
export function fitBinary(
  rows: readonly (readonly number[])[],
  labels: readonly boolean[],
  options: FitOptions = {},
  sampleWeights: readonly number[] = rows.map(() => 1),
): BinaryModel {
  const { l2 = 1e-3, iterations = 800, learningRate = 0.5 } = options;
  const norm = standardisation(rows);
  const x = rows.map((row) => standardise(row, norm));
  const total = sampleWeights.reduce((sum, w) => sum + w, 0);
  const weights = new Array<number>(norm.mean.length).fill(0);
  let bias = 0;
  for (let it = 0; it < iterations; it++) {
    const gradient = new Array<number>(weights.length).fill(0);
    let biasGradient = 0;
    x.forEach((row, n) => {
      const error = sampleWeights[n]! * (sigmoid(bias + row.reduce((sum, v, j) => sum + v * weights[j]!, 0)) - (labels[n] ? 1 : 0));
      biasGradient += error;
      row.forEach((v, j) => (gradient[j]! += error * v));
    });
    bias -= (learningRate * biasGradient) / total;
    weights.forEach((w, j) => (weights[j] = w - learningRate * (gradient[j]! / total + l2 * w)));
  }
  return { ...norm, weights, bias };
}

export function binaryProbability(model: BinaryModel, row: readonly number[]): number {
  return sigmoid(model.bias + standardise(row, model).reduce((sum, v, j) => sum + v * model.weights[j]!, 0));
}

export interface CandidateGroup {
  readonly rows: readonly (readonly number[])[];
  readonly gold: readonly boolean[];
  /** How much this question counts (1 by default). */
  readonly weight?: number;
}

/** Weights on the original feature scale (standardising only shifts every candidate of a question alike). */
export function fitConditional(groups: readonly CandidateGroup[], options: FitOptions = {}): number[] {
  const { l2 = 1e-3, iterations = 400, learningRate = 0.5, nonNegative = false } = options;
  const usable = groups.filter((group) => group.gold.some(Boolean) && group.gold.some((g) => !g));
  const norm = standardisation(usable.flatMap((group) => group.rows));
  const x = usable.map((group) => group.rows.map((row) => standardise(row, norm)));
  const groupWeights = usable.map((group) => group.weight ?? 1);
  const total = groupWeights.reduce((sum, w) => sum + w, 0);
  const weights = new Array<number>(norm.mean.length).fill(0);
  for (let it = 0; it < iterations; it++) {
    const gradient = new Array<number>(weights.length).fill(0);
    x.forEach((rows, g) => {
      const groupWeight = groupWeights[g]!;
      const scores = rows.map((row) => row.reduce((sum, v, j) => sum + v * weights[j]!, 0));
      const top = Math.max(...scores);
      const exp = scores.map((s) => Math.exp(s - top));
      const total = exp.reduce((a, b) => a + b, 0);
      const p = exp.map((e) => e / total);
      const goldMass = p.reduce((sum, value, i) => sum + (usable[g]!.gold[i] ? value : 0), 0);
      rows.forEach((row, i) => {
        const coefficient = groupWeight * (p[i]! - (usable[g]!.gold[i] ? p[i]! / goldMass : 0));
        row.forEach((v, j) => (gradient[j]! += coefficient * v));
      });
    });
    weights.forEach((w, j) => {
      const next = w - learningRate * (gradient[j]! / total + l2 * w);
      weights[j] = nonNegative ? Math.max(0, next) : next;
    });
  }
  return weights.map((w, j) => w / norm.scale[j]!);
}
