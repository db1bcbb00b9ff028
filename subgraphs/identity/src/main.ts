import { runSubgraph } from '@numezis/runtime';
import { readIdentitySettings } from './config.ts';
import { createIdentitySubgraph, identitySubgraph } from './definition.ts';
import { defaultMailOutboxDir } from './paths.ts';

await runSubgraph(
  identitySubgraph,
  (config) =>
    createIdentitySubgraph(
      readIdentitySettings(process.env, config.environment, { mailOutboxDir: defaultMailOutboxDir }),
      config.clock,
    ),
  process.env,
);
