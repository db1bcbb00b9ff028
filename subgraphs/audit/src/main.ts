import { runSubgraph } from '@numezis/runtime';
import { auditSubgraph } from './definition.ts';

await runSubgraph(auditSubgraph, auditSubgraph, process.env);
