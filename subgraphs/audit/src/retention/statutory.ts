/**
 * Swiss Code of Obligations art. 958f: accounting records are kept for ten years from the end of
 * the business year. An accounting event may go on the first day after the tenth full year that
 * follows the end of the fiscal year it happened in (UTC, to the day).
 */
export function statutoryUntil(occurredAt: Date, fiscalYearStartMonth: number): Date {
  const month = occurredAt.getUTCMonth() + 1;
  const fiscalYear = month >= fiscalYearStartMonth ? occurredAt.getUTCFullYear() : occurredAt.getUTCFullYear() - 1;
  // The fiscal year ends where the next begins; ten years on from there.
  return new Date(Date.UTC(fiscalYear + 1 + 10, fiscalYearStartMonth - 1, 1));
}
