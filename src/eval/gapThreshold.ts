/**
 * `npm run fit:gaps`: how well `/gaps` groups paraphrases at each threshold, on hand-written
 * workplace questions (five topics; tuning data only; the test groups different questions).
 * Prints, per threshold, the share of same-topic pairs grouped together and of different-topic
 * pairs kept apart; SAME_TOPIC_COSINE in src/gaps/groupGaps.ts was read off this table.
 */
import { DEFAULT_MODEL_ID, loadEmbedder } from '../embeddings/embedder.ts';
import { defaultModelCacheDir } from '../embeddings/minilm/modelFolder.ts';
import { groupGaps } from '../gaps/groupGaps.ts';

const TOPICS = [
  ['what is the parking policy', 'where do I park my car', 'Is there parking at the office?', 'can I leave my car in the garage'],
  ['what is the wifi password', 'how do I connect to wifi', 'wifi login for guests?'],
  ['how many vacation days do we get', 'what is the holiday allowance', 'annual leave entitlement'],
  ['who approves expense reports', 'how do I get reimbursed for travel', 'expense claim process'],
  ['when is the next all-hands meeting', 'date of the company meeting'],
];

const embedder = await loadEmbedder({ modelId: DEFAULT_MODEL_ID, cacheDir: defaultModelCacheDir(), batchSize: 32 });
const asked = TOPICS.flatMap((questions, topic) => questions.map((question) => ({ question, topic })));
const vectors = await embedder.embed(asked.map((entry) => entry.question));
await embedder.dispose();

process.stdout.write('threshold  same-topic pairs together  different-topic pairs apart  groups\n');
for (let threshold = 0.3; threshold <= 0.601; threshold += 0.05) {
  const topics = groupGaps(
    asked.map((entry, i) => ({ question: entry.question, at: String(i), vector: vectors[i]! })),
    threshold,
  );
  const groupOf = new Map(topics.flatMap((topic, group) => topic.phrasings.map((phrasing) => [phrasing, group] as const)));
  let together = 0;
  let same = 0;
  let apart = 0;
  let different = 0;
  for (let a = 0; a < asked.length; a++) {
    for (let b = a + 1; b < asked.length; b++) {
      const grouped = groupOf.get(asked[a]!.question) === groupOf.get(asked[b]!.question);
      if (asked[a]!.topic === asked[b]!.topic) {
        same++;
        if (grouped) together++;
      } else {
        different++;
        if (!grouped) apart++;
      }
    }
  }
  process.stdout.write(
    `${threshold.toFixed(2).padStart(9)}  ${`${((100 * together) / same).toFixed(0)}%`.padStart(25)}  ${`${((100 * apart) / different).toFixed(0)}%`.padStart(27)}  ${String(topics.length).padStart(6)}\n`,
  );
}
