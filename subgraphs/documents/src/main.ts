import { runSubgraph } from '@numezis/runtime';
import { documentsSubgraph } from './definition.ts';

await runSubgraph(documentsSubgraph, documentsSubgraph, process.env);
