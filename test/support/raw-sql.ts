/** Raw SQL on a test's own database (SQLite file or Postgres URL), for checks the stores do not offer. */
import Database from 'better-sqlite3';
import pg from 'pg';

/** Raw SQL on the trail's database, `$1`-style placeholders for both. */
export type Sql = (text: string, params?: ReadonlyArray<string | number | null>) => Promise<Array<Record<string, unknown>>>;

export function sqliteSql(file: string): Sql {
  return async (text, params = []) => {
    const db = new Database(file);
    try {
      const statement = db.prepare(text.replace(/\$\d+/g, '?'));
      return statement.reader ? (statement.all(...params) as Array<Record<string, unknown>>) : (statement.run(...params), []);
    } finally {
      db.close();
    }
  };
}

export function postgresSql(url: string): Sql {
  return async (text, params = []) => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return (await client.query(text, [...params])).rows as Array<Record<string, unknown>>;
    } finally {
      await client.end();
    }
  };
}
