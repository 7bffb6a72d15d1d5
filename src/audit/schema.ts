/**
 * The trail's schema and migrations, for both databases, in one place. Migrations run at
 * start-up inside the database's lock, each once, recorded in audit_meta.
 */
import type { AuditFilter, AuditRow } from './record.js';
import type { SqlDialect } from './sql-trail.js';

export interface Migration {
  version: number;
  sqlite: string[];
  postgres: string[];
}

const COLUMNS_SQL = (seqType: string) => `
  seq ${seqType} PRIMARY KEY,
  at TEXT NOT NULL,
  kind TEXT NOT NULL,
  tenant_id TEXT,
  surface TEXT,
  caller TEXT,
  conversation TEXT,
  principal TEXT,
  verified_by TEXT,
  issuer TEXT,
  unverified INTEGER NOT NULL,
  tool TEXT,
  outcome TEXT,
  reason TEXT,
  disclosed TEXT NOT NULL,
  write_action TEXT,
  detail TEXT,
  email TEXT,
  customer_ids TEXT,
  salt TEXT,
  commitment TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL`;

const INDEXES = [
  'CREATE INDEX audit_records_email ON audit_records (email, seq)',
  'CREATE INDEX audit_records_at ON audit_records (at)',
  'CREATE INDEX audit_records_conversation ON audit_records (conversation, seq)',
  'CREATE INDEX audit_records_tenant ON audit_records (tenant_id, seq)',
];

const TENANT_TABLES = [
  `CREATE TABLE tenants (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    mode TEXT NOT NULL,
    settings TEXT NOT NULL,
    stripe_key TEXT NOT NULL,
    webhook_secret TEXT,
    probe TEXT,
    version INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL)`,
  `CREATE TABLE tenant_keys (
    digest TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL)`,
  'CREATE INDEX tenant_keys_tenant ON tenant_keys (tenant_id)',
];

/** confirm_hash is an HMAC of the confirmation secret, never the secret; times are ISO 8601 text, as in audit_records. */
const ACTION_REQUEST_TABLES = [
  `CREATE TABLE action_requests (
    id TEXT PRIMARY KEY,
    tenant_id TEXT,
    kind TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    email TEXT,
    principal TEXT NOT NULL,
    created_by TEXT NOT NULL,
    conversation TEXT,
    params TEXT NOT NULL,
    preview TEXT NOT NULL,
    state TEXT NOT NULL,
    state_version INTEGER NOT NULL,
    confirm_hash TEXT,
    confirm_expires_at TEXT,
    confirmed_via TEXT,
    claimed_at TEXT,
    decided_by TEXT,
    note TEXT,
    stripe_object_id TEXT,
    failure_reason TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL)`,
  'CREATE INDEX action_requests_customer ON action_requests (tenant_id, customer_id, kind, created_at)',
  'CREATE INDEX action_requests_state ON action_requests (state, updated_at)',
];

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sqlite: [`CREATE TABLE audit_records (${COLUMNS_SQL('INTEGER')})`, ...INDEXES],
    postgres: [`CREATE TABLE audit_records (${COLUMNS_SQL('BIGINT')})`, ...INDEXES],
  },
  {
    // Platform mode: merchants (tenants) with their Stripe keys encrypted, and bearer keys as HMAC digests.
    version: 2,
    sqlite: TENANT_TABLES,
    postgres: TENANT_TABLES,
  },
  {
    // Keyed links: the id of the audit key each record's link is an HMAC under (null: written before).
    version: 3,
    sqlite: ['ALTER TABLE audit_records ADD COLUMN key_id TEXT'],
    postgres: ['ALTER TABLE audit_records ADD COLUMN key_id TEXT'],
  },
  {
    // Action requests (src/actions/requests.ts): every state change a compare-and-set on state + state_version.
    version: 4,
    sqlite: ACTION_REQUEST_TABLES,
    postgres: ACTION_REQUEST_TABLES,
  },
];

export const META_TABLE_SQL = 'CREATE TABLE IF NOT EXISTS audit_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)';

/** Column order of INSERTs (and of `toColumns`). */
export const INSERT_COLUMNS = [
  'seq',
  'at',
  'kind',
  'tenant_id',
  'surface',
  'caller',
  'conversation',
  'principal',
  'verified_by',
  'issuer',
  'unverified',
  'tool',
  'outcome',
  'reason',
  'disclosed',
  'write_action',
  'detail',
  'email',
  'customer_ids',
  'salt',
  'commitment',
  'prev_hash',
  'hash',
  'key_id',
] as const;

type DbValue = string | number | null;

export function toColumns(row: AuditRow): DbValue[] {
  return [
    row.seq,
    row.at,
    row.kind,
    row.tenant_id,
    row.surface,
    row.caller,
    row.conversation,
    row.principal,
    row.verified_by,
    row.issuer,
    row.unverified ? 1 : 0,
    row.tool,
    row.outcome,
    row.reason,
    JSON.stringify(row.disclosed),
    row.write,
    row.detail === null ? null : JSON.stringify(row.detail),
    row.email,
    row.customer_ids.length > 0 ? JSON.stringify(row.customer_ids) : null,
    row.salt,
    row.commitment,
    row.prev_hash,
    row.hash,
    row.key_id,
  ];
}

/** A database row (either driver) back to a record. */
export function fromColumns(raw: Record<string, unknown>): AuditRow {
  const text = (value: unknown) => (value === null || value === undefined ? null : String(value));
  return {
    seq: Number(raw.seq),
    at: String(raw.at),
    kind: String(raw.kind) as AuditRow['kind'],
    tenant_id: text(raw.tenant_id),
    surface: text(raw.surface) as AuditRow['surface'],
    caller: text(raw.caller),
    conversation: text(raw.conversation),
    principal: text(raw.principal) as AuditRow['principal'],
    verified_by: text(raw.verified_by) as AuditRow['verified_by'],
    issuer: text(raw.issuer),
    unverified: Number(raw.unverified) === 1,
    tool: text(raw.tool),
    outcome: text(raw.outcome) as AuditRow['outcome'],
    reason: text(raw.reason),
    disclosed: JSON.parse(String(raw.disclosed)) as AuditRow['disclosed'],
    write: text(raw.write_action) as AuditRow['write'],
    detail: raw.detail === null || raw.detail === undefined ? null : (JSON.parse(String(raw.detail)) as Record<string, unknown>),
    email: text(raw.email),
    customer_ids: raw.customer_ids ? (JSON.parse(String(raw.customer_ids)) as string[]) : [],
    salt: text(raw.salt),
    commitment: String(raw.commitment),
    prev_hash: String(raw.prev_hash),
    key_id: text(raw.key_id),
    hash: String(raw.hash),
  };
}

/**
 * `customer_ids` holds a JSON array of `cus_…` ids, so the quoted id matches exactly one element.
 * A plain substring test, case-sensitive in both databases (LIKE is not, in SQLite, and has wildcards).
 */
export function namesCustomer(dialect: SqlDialect, placeholder: string): string {
  return dialect.backend === 'sqlite' ? `instr(customer_ids, ${placeholder}) > 0` : `strpos(customer_ids, ${placeholder}) > 0`;
}

export function quotedCustomer(customerId: string): string {
  return JSON.stringify(customerId);
}

/** WHERE clause and parameters for a filter, in the dialect's placeholders (`?` or `$n`). */
export function whereOf(filter: AuditFilter, dialect: SqlDialect): { sql: string; params: DbValue[] } {
  const placeholder = dialect.placeholder;
  const clauses: string[] = [];
  const params: DbValue[] = [];
  const add = (clause: (p: string) => string, value: DbValue) => {
    params.push(value);
    clauses.push(clause(placeholder(params.length)));
  };
  if (filter.email !== undefined) add((p) => `email = ${p}`, filter.email);
  if (filter.customer !== undefined) add((p) => namesCustomer(dialect, p), quotedCustomer(filter.customer));
  if (filter.since !== undefined) add((p) => `at >= ${p}`, filter.since);
  if (filter.conversation !== undefined) add((p) => `conversation = ${p}`, filter.conversation);
  if (filter.tenant_id !== undefined) add((p) => `tenant_id = ${p}`, filter.tenant_id);
  if (filter.surfaces !== undefined) {
    const marks = filter.surfaces.map((surface) => {
      params.push(surface);
      return placeholder(params.length);
    });
    clauses.push(marks.length > 0 ? `surface IN (${marks.join(', ')})` : 'FALSE');
  }
  return { sql: clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '', params };
}

export const DEFAULT_FIND_LIMIT = 100;
export const MAX_FIND_LIMIT = 10_000;

export function limitOf(filter: AuditFilter): number {
  return Math.min(Math.max(1, Math.floor(filter.limit ?? DEFAULT_FIND_LIMIT)), MAX_FIND_LIMIT);
}
