/** Pure scoring helpers for the eval: what counts as a hit, and summary statistics. */

function normalise(text: string): string {
  return text.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();
}

/** A hit: some gold answer string appears (case- and spacing-insensitively) in one of the first `k` quotes. */
export function isHit(quotes: readonly string[], answers: readonly string[], k: number): boolean {
  const shown = quotes.slice(0, k).map(normalise);
  return answers.some((answer) => {
    const gold = normalise(answer);
    return gold.length > 0 && shown.some((quote) => quote.includes(gold));
  });
}

export function percent(part: number, whole: number): string {
  return whole === 0 ? 'n/a' : `${((100 * part) / whole).toFixed(1)}%`;
}

/** `count` items spread evenly over `total` (all of them when count ≥ total). */
export function evenlySpaced<T>(items: readonly T[], count: number | undefined): T[] {
  if (count === undefined || count >= items.length) return [...items];
  return Array.from({ length: count }, (_, i) => items[Math.floor((i * items.length) / count)]!);
}

export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** A quote without the `…` marks of a trimmed sentence. */
function bare(quote: string): string {
  return normalise(quote.replace(/^…|…$/g, ''));
}

/** A hit for sentence-level gold (WikiQA, Docent's seed questions): one of the first `k` quotes is, or lies inside, a gold sentence. */
export function isSentenceHit(quotes: readonly string[], goldSentences: readonly string[], k: number): boolean {
  const gold = goldSentences.map(normalise);
  return quotes.slice(0, k).some((quote) => {
    const text = bare(quote);
    return text.length > 0 && gold.some((sentence) => sentence.includes(text));
  });
}

/** The value below which a share `q` of the total weight lies (`values` in any order, one weight each). */
export function weightedQuantile(values: readonly number[], weights: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const order = values.map((_, i) => i).sort((a, b) => values[a]! - values[b]!);
  const total = weights.reduce((sum, w) => sum + w, 0);
  let below = 0;
  for (const i of order) {
    below += weights[i]!;
    if (below > q * total) return values[i]!;
  }
  return values[order.at(-1)!]!;
}
