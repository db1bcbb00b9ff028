import { runSubgraph } from '@numezis/runtime';
import { identitySubgraph } from './definition.ts';

await runSubgraph(identitySubgraph, process.env);
