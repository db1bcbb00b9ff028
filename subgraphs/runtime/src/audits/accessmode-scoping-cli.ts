// `npm run audit:accessmode-scoping`: audits the TypeScript sources of the gateway and the subgraphs
// for queries and writes that bypass the tenant-scoped data access path (see accessmode-scoping.ts).
// Exit code 1 when anything is reported, so CI stops before such code ships.
import {
  auditAccessModeScoping,
  collectSourceFiles,
  formatViolation,
  isAuditedPath,
  repositoryRoot,
} from './accessmode-scoping.ts';

const command = 'audit:accessmode-scoping';

try {
  const files = await collectSourceFiles(repositoryRoot);
  const audited = files.filter((file) => isAuditedPath(file.path)).length;
  const violations = auditAccessModeScoping(files);
  for (const violation of violations) process.stderr.write(`${formatViolation(violation)}\n`);
  if (violations.length === 0) {
    process.stdout.write(`${command}: no violations in ${audited} source files\n`);
  } else {
    const count = violations.length === 1 ? '1 violation' : `${violations.length} violations`;
    const inFiles = new Set(violations.map((violation) => violation.path)).size;
    process.stderr.write(`${command}: ${count} in ${inFiles} files (${audited} source files audited)\n`);
    process.exitCode = 1;
  }
} catch (error) {
  process.stderr.write(`${command}: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
