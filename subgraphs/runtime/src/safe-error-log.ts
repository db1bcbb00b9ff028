/**
 * Error serialisation for logs that keeps the diagnosis and drops the data. Query errors carry the
 * statement's parameters (Drizzle appends `params: ...` to its message) and PostgreSQL errors carry
 * row values in `detail` (`Key (tenant_id, iban)=(..., CH93...) already exists`): either would put
 * an IBAN, an AHV number or a password hash in a log line. SQL text, SQLSTATE, constraint, table and
 * column names stay, which is what an operator needs.
 */
export interface SafeError {
  readonly type: string;
  readonly message: string;
  readonly stack?: string;
  readonly code?: string;
  readonly constraint?: string;
  readonly table?: string;
  readonly column?: string;
  readonly cause?: SafeError;
}

const maxCauseDepth = 5;

/** Cuts a message at Drizzle's parameter list. */
function withoutParams(text: string): string {
  const at = text.search(/\r?\nparams:/);
  return at === -1 ? text : `${text.slice(0, at)}\nparams: [redacted]`;
}

function pick(record: Record<string, unknown>, key: string): string | undefined {
  const value = record[key];
  return typeof value === 'string' ? value : undefined;
}

export function safeError(error: unknown, depth = 0): SafeError {
  if (!(error instanceof Error)) return { type: typeof error, message: '[non-error value]' };
  const record = error as unknown as Record<string, unknown>;
  const message = withoutParams(error.message);
  // The stack's first line repeats the message; only the frames are kept from it.
  const frames = error.stack?.split('\n').filter((line) => /^\s+at /.test(line));
  const code = pick(record, 'code');
  const constraint = pick(record, 'constraint');
  const table = pick(record, 'table');
  const column = pick(record, 'column');
  return {
    type: error.name,
    message,
    ...(frames === undefined ? {} : { stack: [`${error.name}: ${message}`, ...frames].join('\n') }),
    ...(code === undefined ? {} : { code }),
    ...(constraint === undefined ? {} : { constraint }),
    ...(table === undefined ? {} : { table }),
    ...(column === undefined ? {} : { column }),
    ...(error.cause === undefined || depth >= maxCauseDepth ? {} : { cause: safeError(error.cause, depth + 1) }),
  };
}
