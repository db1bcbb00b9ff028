import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';

const appUrl = new URL('./app.ts', import.meta.url).href;

// Run in a fresh process: what this test process has loaded already says nothing.
const probe = `
import { registerHooks } from 'node:module';
const packages = new Set();
registerHooks({
  resolve(specifier, context, next) {
    const resolved = next(specifier, context);
    const match = /node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(resolved.url);
    if (match !== null) packages.add(match[1]);
    return resolved;
  },
});
await import(${JSON.stringify(appUrl)});
process.stdout.write(JSON.stringify([...packages]));
`;

test('the gateway loads neither the database layer nor the KMS client, which only the subgraphs use', async () => {
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', probe]);
  const packages = JSON.parse(stdout) as string[];
  assert.ok(packages.includes('@apollo/gateway'), 'the probe sees what the gateway loads');
  const unwanted = ['drizzle-orm', '@electric-sql/pglite', 'pg', '@google-cloud/kms', '@grpc/grpc-js'];
  assert.deepEqual(
    packages.filter((name) => unwanted.includes(name)),
    [],
  );
});
