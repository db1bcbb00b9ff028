import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { KmsError } from './kms.ts';
import { openKms } from './open-kms.ts';
import { Secret } from './secret.ts';

describe('openKms', () => {
  const keyName = 'projects/p/locations/europe-west6/keyRings/r/cryptoKeys/k';

  it('opens the provider the configuration names', async () => {
    const local = await openKms(
      {
        kms: { provider: 'local', keyFile: '/nonexistent', masterKey: new Secret(randomBytes(32)) },
        residency: 'strict-ch',
        dekCacheTtlMs: 1000,
      },
      'test',
    );
    assert.equal(local.provider, 'local');
    // With a loopback endpoint the client never looks for Google credentials, so this stays on this machine.
    const gcp = await openKms(
      {
        kms: { provider: 'gcp', keyName, endpoint: { host: '127.0.0.1', port: 1 } },
        residency: 'strict-ch',
        dekCacheTtlMs: 1000,
      },
      'test',
    );
    assert.equal(gcp.provider, 'gcp');
    assert.equal(gcp.keyName, keyName);
    await gcp.close();
  });

  it('refuses the local provider and a plaintext endpoint in production, even if configuration let them through', async () => {
    await assert.rejects(
      openKms(
        {
          kms: { provider: 'local', keyFile: '/nonexistent', masterKey: new Secret(randomBytes(32)) },
          residency: 'none',
          dekCacheTtlMs: 1000,
        },
        'production',
      ),
      KmsError,
    );
    await assert.rejects(
      openKms(
        {
          kms: { provider: 'gcp', keyName, endpoint: { host: '127.0.0.1', port: 1 } },
          residency: 'none',
          dekCacheTtlMs: 1000,
        },
        'production',
      ),
      KmsError,
    );
  });
});
