import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, it } from 'node:test';
import { readCommonConfig } from './common.ts';
import { readEncryptionConfig } from './kms.ts';
import type { EncryptionConfig } from './kms.ts';
import { ConfigError, createConfigReader } from './reader.ts';

const defaultLocalKeyFile = '/tmp/numezis/kms/accounting.json';
const swissKey = 'projects/numezis/locations/europe-west6/keyRings/prod/cryptoKeys/data-keys';

function read(env: Record<string, string>): EncryptionConfig {
  const reader = createConfigReader(env);
  const { environment } = readCommonConfig(reader);
  return reader.finish(readEncryptionConfig(reader, environment, { defaultLocalKeyFile }));
}

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    read(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('encryption configuration', () => {
  it('defaults to the local KMS with its key file, strict Swiss residency and a 5-minute key cache', () => {
    const config = read({});
    assert.deepEqual(config, {
      kms: { provider: 'local', keyFile: defaultLocalKeyFile },
      residency: 'strict-ch',
      dekCacheTtlMs: 300_000,
    });
    assert.ok(Object.isFrozen(config.kms));
  });

  it('takes a local master key from the setting and never prints it', () => {
    const key = randomBytes(32);
    const config = read({ KMS_LOCAL_MASTER_KEY: key.toString('base64url'), DEK_CACHE_TTL_SECONDS: '30' });
    assert.equal(config.kms.provider, 'local');
    assert.ok(config.kms.provider === 'local' && config.kms.masterKey?.reveal().equals(key));
    assert.equal(config.dekCacheTtlMs, 30_000);
    const printed = `${JSON.stringify(config)}\n${inspect(config, { depth: 10, showHidden: true })}`;
    for (const encoding of ['hex', 'base64', 'base64url'] as const)
      assert.ok(!printed.includes(key.toString(encoding)));
  });

  it('reads a Cloud KMS key and a test endpoint', () => {
    assert.deepEqual(
      read({ KMS_PROVIDER: 'gcp', KMS_GCP_KEY_NAME: swissKey, KMS_GCP_ENDPOINT: '127.0.0.1:7777' }).kms,
      {
        provider: 'gcp',
        keyName: swissKey,
        endpoint: { host: '127.0.0.1', port: 7777 },
      },
    );
    const production = read({ NODE_ENV: 'production', KMS_PROVIDER: 'gcp', KMS_GCP_KEY_NAME: swissKey });
    assert.deepEqual(production.kms, { provider: 'gcp', keyName: swissKey });
  });

  it('refuses the local KMS, local keys and a plaintext endpoint in production, each by name', () => {
    const problems = problemsOf({
      NODE_ENV: 'production',
      KMS_PROVIDER: 'local',
      KMS_LOCAL_MASTER_KEY: randomBytes(32).toString('base64url'),
      KMS_GCP_ENDPOINT: '127.0.0.1:1',
    });
    for (const name of ['KMS_PROVIDER=local', 'KMS_LOCAL_MASTER_KEY', 'KMS_GCP_ENDPOINT']) {
      assert.ok(
        problems.some((problem) => problem.includes(name)),
        `${name} missing from ${problems.join(' | ')}`,
      );
    }
    assert.ok(problemsOf({ NODE_ENV: 'production' }).some((problem) => problem.startsWith('KMS_PROVIDER is required')));
  });

  it('refuses a Cloud KMS key outside europe-west6 under strict residency, at start', () => {
    const frankfurt = swissKey.replace('europe-west6', 'europe-west3');
    const problems = problemsOf({ KMS_PROVIDER: 'gcp', KMS_GCP_KEY_NAME: frankfurt });
    assert.equal(problems.length, 1);
    assert.match(problems[0] ?? '', /^KMS_GCP_KEY_NAME .*europe-west6.*DATA_RESIDENCY=strict-ch/);
    assert.equal(read({ KMS_PROVIDER: 'gcp', KMS_GCP_KEY_NAME: frankfurt, DATA_RESIDENCY: 'none' }).residency, 'none');
  });

  it('reports every bad setting at once, and no secret in the messages', () => {
    const badKey = 'c2hvcnQ';
    const problems = problemsOf({
      KMS_PROVIDER: 'vault',
      DATA_RESIDENCY: 'ch',
      DEK_CACHE_TTL_SECONDS: '0',
      KMS_LOCAL_MASTER_KEY: badKey,
    });
    for (const name of ['KMS_PROVIDER', 'DATA_RESIDENCY', 'DEK_CACHE_TTL_SECONDS', 'KMS_LOCAL_MASTER_KEY']) {
      assert.ok(
        problems.some((problem) => problem.startsWith(name)),
        `${name} missing from ${problems.join(' | ')}`,
      );
    }
    assert.ok(!problems.join(' ').includes(badKey));
    assert.ok(problemsOf({ KMS_PROVIDER: 'gcp' }).some((problem) => problem === 'KMS_GCP_KEY_NAME is required'));
    assert.ok(
      problemsOf({ KMS_PROVIDER: 'gcp', KMS_GCP_KEY_NAME: `${swissKey}/cryptoKeyVersions/1` }).some((problem) =>
        problem.startsWith('KMS_GCP_KEY_NAME must be projects/'),
      ),
    );
    assert.ok(
      problemsOf({ KMS_PROVIDER: 'gcp', KMS_GCP_KEY_NAME: swissKey, KMS_GCP_ENDPOINT: 'localhost' }).some((problem) =>
        problem.startsWith('KMS_GCP_ENDPOINT'),
      ),
    );
    assert.ok(
      problemsOf({ KMS_LOCAL_KEY_FILE: '/x', KMS_LOCAL_MASTER_KEY: randomBytes(32).toString('base64url') }).some(
        (problem) => problem.includes('not both'),
      ),
    );
  });
});
