import nlp from 'compromise';

/**
 * Answer-type evidence: a "who" question is answered by a sentence naming someone the question
 * does not already name, a "when" question by a date, "how many" by a number, "where" by a place.
 * Entities are tagged once, at index time, by compromise (a rule-based English tagger).
 */
export type EntityKind = 'P' | 'O' | 'L' | 'D' | 'N';

const MENTION_SEPARATOR = '|';

function normalise(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{N} ]/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * The entities a sentence mentions, as `kind:words` joined by `|`
 * (e.g. `P:alexander darchiev|D:2016`): a flat string, because index metadata holds only scalars.
 */
export function entityMentions(text: string): string {
  const doc = nlp(text.replace(/\s+/g, ' '));
  const groups: [EntityKind, { out(format: 'array'): string[] }][] = [
    ['P', doc.people()],
    ['O', doc.organizations()],
    ['L', doc.places()],
    ['D', doc.match('(#Date|#Year|#Month|#WeekDay|#Time)')],
    ['N', doc.match('(#Value|#Money|#Percent|#Fraction)')],
  ];
  const mentions = new Set<string>();
  for (const [kind, view] of groups) {
    for (const mention of view.out('array')) {
      const words = normalise(mention);
      if (words.length > 0) mentions.add(`${kind}:${words}`);
    }
  }
  return [...mentions].join(MENTION_SEPARATOR);
}

/** The entity kinds that would answer the question, from its wording; empty when it asks for none. */
export function askedKinds(question: string): EntityKind[] {
  const q = ` ${normalise(question)} `;
  if (/ (who|whom|whose) /.test(q)) return ['P', 'O'];
  if (/ (when|(what|which) (year|date|day|month|century|decade|time)) /.test(q)) return ['D'];
  if (/ how (many|much|long|old|tall|big|far|large|high|deep|often|fast|heavy) | (what|which) (percentage|percent|number|amount) /.test(q)) return ['N', 'D'];
  if (/ (where|(what|which) (country|city|state|place|town|region)) /.test(q)) return ['L'];
  return [];
}

/** Whether `mentions` holds an entity of an asked kind that the question does not itself name. */
export function hasAskedEntity(mentions: string, asked: readonly EntityKind[], question: string): boolean {
  if (asked.length === 0 || mentions.length === 0) return false;
  const named = ` ${normalise(question)} `;
  return mentions.split(MENTION_SEPARATOR).some((mention) => {
    const kind = mention[0] as EntityKind;
    return asked.includes(kind) && !named.includes(` ${mention.slice(2)} `);
  });
}

// compromise builds its tagging rules on first use (about 60 ms, more with its first collections):
// built while this module loads, that cost never falls inside a re-index the bot is answering through.
entityMentions('Ada Lovelace met Charles Babbage in London on 5 June 1833, with 2 friends.');
