import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { crc32c } from './crc32c.ts';
import { createGcpKms } from './gcp-kms.ts';
import { KmsError, KmsIntegrityError } from './kms.ts';
import type { KeyManagementService } from './kms.ts';
import { parseCryptoKeyName, residencyProblem } from './residency.ts';
import { startLoopbackKms } from './testing/loopback-kms-server.ts';
import type { LoopbackKms, LoopbackKmsFault } from './testing/loopback-kms-server.ts';

// The real @google-cloud/kms client over real gRPC, against a stand-in of Cloud KMS on loopback.
describe('Cloud KMS provider', () => {
  let server: LoopbackKms;
  let kms: KeyManagementService;
  const plaintext = Buffer.from('a 32-byte data key, more or less');
  const aad = Buffer.from('tenant:11111111-1111-4111-8111-111111111111');

  before(async () => {
    server = await startLoopbackKms();
    kms = createGcpKms({
      keyName: server.keyName,
      residency: 'strict-ch',
      endpoint: { host: server.host, port: server.port },
    });
  });
  after(async () => {
    await kms.close();
    await server.stop();
  });
  afterEach(() => {
    server.clearFaults();
  });

  const requestsDuring = async <T>(work: () => Promise<T>) => {
    const start = server.requests.length;
    const outcome = await work().then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );
    return { ...outcome, requests: server.requests.slice(start) };
  };

  it('sends the CRC32C of everything it sends, and round-trips', async () => {
    const encrypted = await requestsDuring(() => kms.encrypt(plaintext, aad));
    assert.ok('value' in encrypted);
    const wrapped = encrypted.value;
    assert.equal(wrapped.keyVersion, `${server.keyName}/cryptoKeyVersions/1`);
    assert.deepEqual(encrypted.requests, [
      {
        method: 'encrypt',
        name: server.keyName,
        plaintextCrc32c: crc32c(plaintext),
        additionalAuthenticatedDataCrc32c: crc32c(aad),
      },
    ]);

    const decrypted = await requestsDuring(() => kms.decrypt(wrapped.ciphertext, aad));
    assert.ok('value' in decrypted);
    assert.equal(decrypted.value.toString(), plaintext.toString());
    assert.deepEqual(decrypted.requests, [
      {
        method: 'decrypt',
        name: server.keyName,
        ciphertextCrc32c: crc32c(wrapped.ciphertext),
        additionalAuthenticatedDataCrc32c: crc32c(aad),
      },
    ]);
  });

  it('cannot decrypt with another AAD, and does not retry a plain refusal', async () => {
    const wrapped = await kms.encrypt(plaintext, aad);
    const outcome = await requestsDuring(() => kms.decrypt(wrapped.ciphertext, Buffer.from('tenant:other')));
    assert.ok('error' in outcome);
    assert.ok(outcome.error instanceof KmsError && !(outcome.error instanceof KmsIntegrityError));
    assert.equal(outcome.requests.length, 1);
  });

  const encryptFaults: readonly LoopbackKmsFault[] = [
    'corruptCiphertext',
    'wrongCiphertextChecksum',
    'missingCiphertextChecksum',
    'unverifiedPlaintext',
    'unverifiedAad',
    'wrongKeyName',
    'corruptRequest',
  ];
  for (const fault of encryptFaults) {
    it(`encrypt: ${fault} on every answer → three attempts, then an integrity failure`, async () => {
      server.inject(fault);
      const outcome = await requestsDuring(() => kms.encrypt(plaintext, aad));
      assert.ok('error' in outcome);
      assert.ok(outcome.error instanceof KmsIntegrityError, String(outcome.error));
      assert.equal(outcome.error.attempts, 3);
      assert.equal(outcome.requests.length, 3);
    });
  }

  const decryptFaults: readonly LoopbackKmsFault[] = ['corruptPlaintext', 'wrongPlaintextChecksum', 'corruptRequest'];
  for (const fault of decryptFaults) {
    it(`decrypt: ${fault} on every answer → three attempts, then an integrity failure`, async () => {
      const wrapped = await kms.encrypt(plaintext, aad);
      server.inject(fault);
      const outcome = await requestsDuring(() => kms.decrypt(wrapped.ciphertext, aad));
      assert.ok('error' in outcome);
      assert.ok(outcome.error instanceof KmsIntegrityError, String(outcome.error));
      assert.equal(outcome.requests.length, 3);
    });
  }

  it('discards one bad answer and uses the next good one', async () => {
    server.inject('unverifiedPlaintext', 1);
    const encrypted = await requestsDuring(() => kms.encrypt(plaintext, aad));
    assert.ok('value' in encrypted);
    assert.equal(encrypted.requests.length, 2);
    server.inject('wrongPlaintextChecksum', 2);
    const decrypted = await requestsDuring(() => kms.decrypt(encrypted.value.ciphertext, aad));
    assert.ok('value' in decrypted);
    assert.equal(decrypted.value.toString(), plaintext.toString());
    assert.equal(decrypted.requests.length, 3);
  });

  it('names the new primary version after a rotation, and still decrypts the old', async () => {
    const old = await kms.encrypt(plaintext, aad);
    const primary = server.rotate();
    const fresh = await kms.encrypt(plaintext, aad);
    assert.equal(fresh.keyVersion, primary);
    assert.notEqual(fresh.keyVersion, old.keyVersion);
    assert.equal((await kms.decrypt(old.ciphertext, aad)).toString(), plaintext.toString());
  });

  it('never puts the plaintext in an error', async () => {
    server.inject('corruptCiphertext');
    const error = await kms.encrypt(plaintext, aad).catch((caught: unknown) => caught);
    assert.ok(error instanceof KmsIntegrityError);
    assert.ok(!JSON.stringify({ message: error.message, stack: error.stack }).includes(plaintext.toString()));
  });
});

describe('data residency', () => {
  const swiss = 'projects/p/locations/europe-west6/keyRings/r/cryptoKeys/k';
  const frankfurt = 'projects/p/locations/europe-west3/keyRings/r/cryptoKeys/k';

  it('refuses a key outside europe-west6 under strict Swiss residency', () => {
    assert.throws(() => createGcpKms({ keyName: frankfurt, residency: 'strict-ch' }), /europe-west6/);
    assert.throws(
      () => createGcpKms({ keyName: frankfurt.replace('europe-west3', 'global'), residency: 'strict-ch' }),
      KmsError,
    );
    assert.equal(residencyProblem(swiss, 'strict-ch'), undefined);
    assert.equal(residencyProblem(frankfurt, 'none'), undefined);
  });

  it('accepts only CryptoKey names, not versions or other resources', () => {
    assert.deepEqual(parseCryptoKeyName(swiss), {
      project: 'p',
      location: 'europe-west6',
      keyRing: 'r',
      cryptoKey: 'k',
    });
    for (const name of [`${swiss}/cryptoKeyVersions/1`, 'projects/p/locations/europe-west6/keyRings/r', '', 'k']) {
      assert.equal(parseCryptoKeyName(name), undefined, name);
      assert.throws(() => createGcpKms({ keyName: name, residency: 'none' }), KmsError);
    }
  });
});
