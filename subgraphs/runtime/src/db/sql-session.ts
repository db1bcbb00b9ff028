import type { PGlite, Transaction } from '@electric-sql/pglite';
import type pg from 'pg';

/** The smallest raw SQL surface that migrations and bootstrap need, over PGlite or node-postgres. */
export interface SqlSession {
  query<Row extends Record<string, unknown>>(text: string, params?: unknown[]): Promise<Row[]>;
  /** Runs a script of several statements without parameters. */
  exec(text: string): Promise<void>;
}

export function pgliteSession(client: PGlite | Transaction): SqlSession {
  return {
    async query<Row extends Record<string, unknown>>(text: string, params?: unknown[]) {
      return (await client.query<Row>(text, params)).rows;
    },
    async exec(text) {
      await client.exec(text);
    },
  };
}

export function pgSession(client: pg.ClientBase): SqlSession {
  return {
    async query<Row extends Record<string, unknown>>(text: string, params?: unknown[]) {
      return (await client.query<Row>(text, params)).rows;
    },
    async exec(text) {
      await client.query(text);
    },
  };
}
