import { afterEach, describe, expect, it } from 'vitest';
import { type EntityTagger, entityTaggerThread } from '../../src/index/tagThread.ts';
import { entityMentions } from '../../src/retrieval/answerTypes.ts';

const SENTENCES = ['Alexander Darchiev met Sonata Coulter in Istanbul on 27 February 2025.', 'The talks lasted six hours.', 'Nothing here is named.'];

describe('entity tagging on a thread of its own', () => {
  let tagger: EntityTagger | undefined;
  afterEach(async () => tagger?.close());

  it('tags each sentence as tagging on this thread does, in order', async () => {
    tagger = entityTaggerThread();
    const entities = await tagger.tag(SENTENCES);
    expect(entities).toEqual(SENTENCES.map(entityMentions));
    expect(entities[0]).toContain('P:alexander darchiev');
    expect(await tagger.tag([])).toEqual([]);
  });

  it('answers requests sent together, each with its own sentences, and starts again after closing', async () => {
    tagger = entityTaggerThread();
    const [first, second] = await Promise.all([tagger.tag(SENTENCES.slice(0, 1)), tagger.tag(SENTENCES.slice(1))]);
    expect(first).toEqual([entityMentions(SENTENCES[0]!)]);
    expect(second).toEqual(SENTENCES.slice(1).map(entityMentions));
    await tagger.close();
    expect(await tagger.tag(SENTENCES.slice(1, 2))).toEqual([entityMentions(SENTENCES[1]!)]);
  });
});
