import { describe, expect, it } from 'vitest';
import { askedKinds, entityMentions, hasAskedEntity } from '../../src/retrieval/answerTypes.ts';

describe('askedKinds', () => {
  it('reads the kind of answer from the question word', () => {
    expect(askedKinds('Who led the talks in Istanbul?')).toEqual(['P', 'O']);
    expect(askedKinds('When were direct flights stopped?')).toEqual(['D']);
    expect(askedKinds('What year did Mexico gain independence?')).toEqual(['D']);
    expect(askedKinds('How many diplomats did Obama kick out?')).toEqual(['N', 'D']);
    expect(askedKinds('where is the brisket from')).toEqual(['L']);
  });

  it('reads it from the kind of thing a "what" or "which" question names', () => {
    expect(askedKinds('Which company runs the trains on this line?')).toEqual(['P', 'O']);
    expect(askedKinds('What president signed the act?')).toEqual(['P', 'O']);
    expect(askedKinds('In what years did the war last?')).toEqual(['D']);
    expect(askedKinds('At what age can children vote?')).toEqual(['N', 'D']);
    expect(askedKinds('what county is jacksonville in')).toEqual(['L']);
    expect(askedKinds('Which countries signed the treaty?')).toEqual(['L']);
    expect(askedKinds('Which cities hosted the games?')).toEqual(['L']);
  });

  it('asks for no kind when the question word does not name one', () => {
    expect(askedKinds('What is the Killenworth estate?')).toEqual([]);
    expect(askedKinds('Why can’t Russia pay its diplomats?')).toEqual([]);
    expect(askedKinds('Somewhere over the rainbow')).toEqual([]);
    expect(askedKinds('What age-related condition is more common in women?')).toEqual([]);
    expect(askedKinds('What companion did she travel with?')).toEqual([]);
  });
});

describe('entityMentions and hasAskedEntity', () => {
  const sentence = 'In 2016, the Obama administration expelled 35 Russian diplomats, said Alexander Darchiev in Washington.';
  const mentions = entityMentions(sentence);

  it('tags people, places, dates and numbers of a sentence', () => {
    expect(mentions).toContain('P:alexander darchiev');
    expect(mentions).toContain('D:2016');
    expect(mentions).toContain('N:35');
    expect(mentions).toContain('L:washington');
  });

  it('finds an entity of the asked kind only when the question does not already name it', () => {
    expect(hasAskedEntity(mentions, ['P', 'O'], 'Who spoke about the expulsions?')).toBe(true);
    expect(hasAskedEntity(entityMentions('Alexander Darchiev spoke.'), ['P', 'O'], 'Who is Alexander Darchiev?')).toBe(false);
    expect(hasAskedEntity(mentions, [], 'Why were they expelled?')).toBe(false);
    expect(hasAskedEntity('', ['D'], 'When?')).toBe(false);
  });
});
