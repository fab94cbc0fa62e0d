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

/** "what X" or "which X", X one of `nouns` or its plural: a question naming the kind of thing it asks for. */
function whatKind(nouns: readonly string[]): string {
  const forms = nouns.map((noun) => (/[^aeiou]y$/.test(noun) ? `${noun.slice(0, -1)}(?:y|ies)` : `${noun}s?`));
  return `(?:what|which) (?:${forms.join('|')})`;
}

// People ask "which company", "what county", "at what age" as often as "who", "where", "how old".
const ASKS_WHO = new RegExp(
  ` (?:who|whom|whose|${whatKind(['person', 'president', 'king', 'queen', 'leader', 'author', 'writer', 'founder', 'actor', 'actress', 'singer', 'player', 'company', 'organization', 'organisation', 'agency', 'university', 'team', 'band', 'party', 'club', 'firm'])}) `,
);
const ASKS_WHEN = new RegExp(` (?:when|${whatKind(['year', 'date', 'day', 'month', 'century', 'decade', 'time', 'era'])}) `);
/** "What age-related condition" asks for no number. */
const ASKS_HOW_MUCH = new RegExp(
  ` (?:how (?:many|much|long|old|tall|big|far|large|high|deep|often|fast|heavy)|${whatKind(['percentage', 'percent', 'number', 'amount'])}|(?:what|which) age(?! related)) `,
);
const ASKS_WHERE = new RegExp(
  ` (?:where|${whatKind(['country', 'city', 'state', 'place', 'town', 'region', 'county', 'province', 'continent', 'island', 'river', 'district', 'village', 'nation', 'location'])}) `,
);

/** The entity kinds that would answer the question, from its wording; empty when it asks for none. */
export function askedKinds(question: string): EntityKind[] {
  const q = ` ${normalise(question)} `;
  if (ASKS_WHO.test(q)) return ['P', 'O'];
  if (ASKS_WHEN.test(q)) return ['D'];
  if (ASKS_HOW_MUCH.test(q)) return ['N', 'D'];
  if (ASKS_WHERE.test(q)) return ['L'];
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
