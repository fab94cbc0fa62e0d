import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { naturalTuningQuestions, newWiki, THIRD_BATCH_FILE } from '../../src/eval/datasets.ts';

const folders: string[] = [];

afterAll(async () => {
  for (const folder of folders) await rm(folder, { recursive: true, force: true });
});

async function fileWith(lines: readonly object[]): Promise<string> {
  const folder = await mkdtemp(path.join(tmpdir(), 'docent-tuning-'));
  folders.push(folder);
  const file = path.join(folder, 'tuning.jsonl');
  await writeFile(file, `${lines.map((line) => JSON.stringify(line)).join('\n')}\n`);
  return file;
}

describe('naturalTuningQuestions', () => {
  it('reads the committed tuning questions: answerable ones with answers, the rest declinable', async () => {
    const questions = await naturalTuningQuestions();
    const answerable = questions.filter((q) => q.answerable);
    expect(answerable.length).toBeGreaterThan(40);
    expect(questions.length - answerable.length).toBeGreaterThan(40);
    for (const q of answerable) expect(q.answers?.length).toBeGreaterThan(0);
  });

  it('gives every question its own id, and each answer string is in the article the question names', async () => {
    // The third batch is reported by the eval, not fitted on (see eval/README.md); its answers are checked the same way.
    const questions = [...(await naturalTuningQuestions()), ...(await naturalTuningQuestions(THIRD_BATCH_FILE))];
    expect(new Set(questions.map((q) => q.id)).size).toBe(questions.length);
    const { articlesDir } = await newWiki();
    const missing: string[] = [];
    for (const q of questions.filter((question) => question.answerable)) {
      const article = await readFile(path.join(articlesDir, q.article!), 'utf8');
      for (const answer of q.answers ?? []) if (!article.includes(answer)) missing.push(`${q.id}: ${answer}`);
    }
    expect(missing).toEqual([]);
  });

  it('refuses a question about a reporting-half article, naming the file and the question', async () => {
    const file = await fileWith([{ id: 'X1', question: 'what is it?', article_file: '003_Odd.md', answers: ['it'] }]);
    await expect(naturalTuningQuestions(file)).rejects.toThrow(`${file}: X1 is about a reporting-half article (003_Odd.md)`);
  });

  it('refuses a line that is neither answerable, related nor off-topic', async () => {
    const file = await fileWith([{ id: 'X2', question: 'what is it?', kind: 'maybe' }]);
    await expect(naturalTuningQuestions(file)).rejects.toThrow(file);
  });
});
