// Builds a deployable (gateway or subgraph) into dist/main.js. Our workspace
// packages are bundled in; third-party packages stay external and come from node_modules at run
// time, so native and CJS dependencies load exactly as in development.
import { build } from 'esbuild';
import type { Plugin } from 'esbuild';

const externalThirdParty: Plugin = {
  name: 'external-third-party',
  setup(builder) {
    builder.onResolve({ filter: /^[^./]/ }, (args) =>
      args.path.startsWith('@numezis/') ? undefined : { path: args.path, external: true },
    );
  },
};

await build({
  entryPoints: ['src/main.ts'],
  outfile: 'dist/main.js',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node24',
  sourcemap: true,
  logLevel: 'warning',
  plugins: [externalThirdParty],
});
process.stdout.write(`built ${process.cwd().split('/').slice(-1)[0]}/dist/main.js\n`);
