import { runSubgraph } from '@numezis/runtime';
import { readDocumentsSettings } from './config.ts';
import { createDocumentsSubgraph, documentsSubgraph } from './definition.ts';
import { defaultBlobDir } from './paths.ts';

await runSubgraph(
  documentsSubgraph,
  (config) =>
    createDocumentsSubgraph(
      readDocumentsSettings(process.env, config.environment, { blobDir: defaultBlobDir }),
      config.clock,
    ),
  process.env,
);
