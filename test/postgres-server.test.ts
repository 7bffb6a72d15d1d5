import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { usePostgresServer } from './support/postgres-server.js';

/** Runs one query on a fresh connection, closed afterwards. */
async function query(url: string, text: string, values: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  client.on('error', () => undefined); // a server going away must not crash the run
  await client.connect();
  try {
    return await client.query(text, values);
  } finally {
    await client.end().catch(() => undefined);
  }
}

describe('the real PostgreSQL test server', () => {
  const postgres = usePostgresServer();

  it('gives isolated databases, and its data survives an outage', async () => {
    const server = postgres();
    expect(server.url).toBe(`postgres://postgres@127.0.0.1:${server.port}/postgres`);

    const first = await server.createDatabase();
    const second = await server.createDatabase();
    expect(first).not.toBe(second);
    expect(first.startsWith(`postgres://postgres@127.0.0.1:${server.port}/`)).toBe(true);

    await query(first, 'CREATE TABLE notes (body text NOT NULL)');
    await query(first, 'INSERT INTO notes (body) VALUES ($1)', ['only in the first']);
    await expect(query(second, 'SELECT body FROM notes')).rejects.toThrow(/relation "notes" does not exist/);

    await server.pause();
    await expect(query(first, 'SELECT 1')).rejects.toThrow();

    await server.resume();
    const { rows } = await query(first, 'SELECT body FROM notes');
    expect(rows).toEqual([{ body: 'only in the first' }]);
  });
});
