import { runSubgraph } from '@numezis/runtime';
import { readAuditSettings } from './config.ts';
import { auditSubgraph, createAuditSubgraph } from './definition.ts';

await runSubgraph(
  auditSubgraph,
  (config) => createAuditSubgraph(readAuditSettings(process.env, config.environment), config.clock),
  process.env,
);
