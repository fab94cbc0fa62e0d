import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

/**
 * A PostgreSQL with pgvector running inside this process (PGlite, in memory) and served over the
 * wire protocol on 127.0.0.1, so the real `pg` client and PostgresStore run against it unchanged.
 * For tests, the eval and the bench: nothing to install, nothing leaves the machine.
 */
export interface LocalPostgres {
  /** A `postgres://` URL for DATABASE_URL. */
  readonly url: string;
  stop(): Promise<void>;
}

export async function startLocalPostgres(): Promise<LocalPostgres> {
  const db = await PGlite.create({ extensions: { vector } });
  // PGlite runs one query at a time; the server queues the pool's connections' queries.
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 16 });
  await server.start();
  return {
    url: `postgres://postgres@${server.getServerConn()}/postgres`,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
