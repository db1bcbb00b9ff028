import { runSubgraph } from '@numezis/runtime';
import { accountingSubgraph } from './definition.ts';

await runSubgraph(accountingSubgraph, accountingSubgraph, process.env);
