import { PostgresStore } from './postgres/postgresStore.ts';
import type { IndexStore } from './store.ts';
import { VectraStore } from './vectra/vectraStore.ts';

export interface StoreSettings {
  readonly INDEX_DIR: string;
  readonly DATABASE_URL?: string;
}

/** PostgreSQL with pgvector when DATABASE_URL is set; otherwise Vectra files in INDEX_DIR. */
export function openStore(settings: StoreSettings): IndexStore {
  return settings.DATABASE_URL ? new PostgresStore(settings.DATABASE_URL) : new VectraStore(settings.INDEX_DIR);
}
