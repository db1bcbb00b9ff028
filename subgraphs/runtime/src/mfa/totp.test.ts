import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Clock } from '../clock.ts';
import {
  base32Decode,
  base32Encode,
  currentStep,
  generateTotpSecret,
  hotpCode,
  otpauthUri,
  totpCode,
  verifyTotp,
} from './totp.ts';
import type { TotpAlgorithm } from './totp.ts';

const at = (ms: number): Clock => ({ now: () => ms });
const atSeconds = (seconds: number): Clock => at(seconds * 1000);

const seeds: Record<TotpAlgorithm, Buffer> = {
  SHA1: Buffer.from('12345678901234567890', 'ascii'),
  SHA256: Buffer.from('12345678901234567890123456789012', 'ascii'),
  SHA512: Buffer.from('1234567890123456789012345678901234567890123456789012345678901234', 'ascii'),
};

describe('RFC 6238 Appendix B test vectors', () => {
  const vectors: [seconds: number, algorithm: TotpAlgorithm, code: string][] = [
    [59, 'SHA1', '94287082'],
    [59, 'SHA256', '46119246'],
    [59, 'SHA512', '90693936'],
    [1111111109, 'SHA1', '07081804'],
    [1111111109, 'SHA256', '68084774'],
    [1111111109, 'SHA512', '25091201'],
    [1111111111, 'SHA1', '14050471'],
    [1111111111, 'SHA256', '67062674'],
    [1111111111, 'SHA512', '99943326'],
    [1234567890, 'SHA1', '89005924'],
    [1234567890, 'SHA256', '91819424'],
    [1234567890, 'SHA512', '93441116'],
    [2000000000, 'SHA1', '69279037'],
    [2000000000, 'SHA256', '90698825'],
    [2000000000, 'SHA512', '38618901'],
    [20000000000, 'SHA1', '65353130'],
    [20000000000, 'SHA256', '77737706'],
    [20000000000, 'SHA512', '47863826'],
  ];

  for (const [seconds, algorithm, code] of vectors) {
    it(`T=${seconds} ${algorithm} -> ${code}`, () => {
      const step = currentStep(atSeconds(seconds));
      assert.equal(totpCode(seeds[algorithm], step, { algorithm, digits: 8 }), code);
      const verified = verifyTotp(seeds[algorithm], code, {
        clock: atSeconds(seconds),
        lastUsedStep: null,
        algorithm,
        digits: 8,
      });
      assert.deepEqual(verified, { ok: true, step });
    });
  }
});

describe('RFC 4226 Appendix D HOTP values', () => {
  const expected = ['755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583', '399871', '520489'];
  for (const [counter, code] of expected.entries()) {
    it(`counter ${counter} -> ${code}`, () => {
      assert.equal(hotpCode(seeds.SHA1, counter), code);
      assert.equal(totpCode(seeds.SHA1, counter), code);
    });
  }

  it('rejects counters that cannot be encoded', () => {
    assert.throws(() => hotpCode(seeds.SHA1, -1), RangeError);
    assert.throws(() => hotpCode(seeds.SHA1, 1.5), RangeError);
  });
});

describe('currentStep', () => {
  it('floors epoch milliseconds into period-sized steps', () => {
    assert.equal(currentStep(at(0)), 0);
    assert.equal(currentStep(at(29_999)), 0);
    assert.equal(currentStep(at(30_000)), 1);
    assert.equal(currentStep(at(59_999), 60), 0);
    assert.equal(currentStep(at(60_000), 60), 1);
  });

  it('refuses a nonsensical period', () => {
    assert.throws(() => currentStep(at(0), 0), RangeError);
    assert.throws(() => currentStep(at(0), -30), RangeError);
  });
});

describe('base32', () => {
  it('matches the RFC 4648 test vectors, unpadded', () => {
    const vectors: [string, string][] = [
      ['', ''],
      ['f', 'MY'],
      ['fo', 'MZXQ'],
      ['foo', 'MZXW6'],
      ['foob', 'MZXW6YQ'],
      ['fooba', 'MZXW6YTB'],
      ['foobar', 'MZXW6YTBOI'],
    ];
    for (const [plain, encoded] of vectors) {
      assert.equal(base32Encode(Buffer.from(plain, 'ascii')), encoded);
      assert.equal(base32Decode(encoded).toString('ascii'), plain);
    }
    assert.equal(base32Encode(seeds.SHA1), 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ');
  });

  it('round-trips buffers of every length and generated secrets', () => {
    for (let length = 0; length <= 64; length++) {
      const bytes = Buffer.alloc(length);
      for (let i = 0; i < length; i++) bytes[i] = (i * 73 + length * 31) & 0xff;
      assert.deepEqual(base32Decode(base32Encode(bytes)), bytes);
    }
    assert.deepEqual(base32Decode(base32Encode(Buffer.alloc(20, 0xff))), Buffer.alloc(20, 0xff));
    const secret = generateTotpSecret();
    assert.equal(secret.length, 20);
    const encoded = base32Encode(secret);
    assert.match(encoded, /^[A-Z2-7]{32}$/);
    assert.deepEqual(base32Decode(encoded), secret);
  });

  it('tolerates lowercase, spaces and padding', () => {
    assert.equal(base32Decode('mzxw 6ytb oi======').toString('ascii'), 'foobar');
    assert.equal(base32Decode(' MY======\n').toString('ascii'), 'f');
    assert.deepEqual(base32Decode('gezd gnbv gy3t qojq gezd gnbv gy3t qojq'), seeds.SHA1);
  });

  it('throws on invalid characters', () => {
    assert.throws(() => base32Decode('MZXW1YTB'), /Invalid base32 character/);
    assert.throws(() => base32Decode('MZXW8YTB'), /Invalid base32 character/);
    assert.throws(() => base32Decode('MZ=XW6YTB'), /Invalid base32 character/);
    assert.throws(() => base32Decode('MZXW-6YTB'), /Invalid base32 character/);
  });

  it('throws on lengths no encoder can produce', () => {
    assert.throws(() => base32Decode('M'), /truncated/);
    assert.throws(() => base32Decode('MZX'), /truncated/);
  });
});

describe('verifyTotp', () => {
  const secret = seeds.SHA1;
  // 1111111111 s sits 1 s into step 37037037, so the previous step is a real neighbour, not a boundary case.
  const clock = atSeconds(1111111111);
  const now = currentStep(clock);
  const codeFor = (step: number) => totpCode(secret, step);

  it('accepts the current step and reports it', () => {
    assert.deepEqual(verifyTotp(secret, codeFor(now), { clock, lastUsedStep: null }), { ok: true, step: now });
  });

  it('accepts a code from the previous step', () => {
    assert.deepEqual(verifyTotp(secret, codeFor(now - 1), { clock, lastUsedStep: null }), {
      ok: true,
      step: now - 1,
    });
  });

  it('rejects a code two steps old', () => {
    assert.deepEqual(verifyTotp(secret, codeFor(now - 2), { clock, lastUsedStep: null }), {
      ok: false,
      reason: 'invalid',
    });
  });

  it('rejects a code from a future step', () => {
    for (const step of [now + 1, now + 2]) {
      assert.deepEqual(verifyTotp(secret, codeFor(step), { clock, lastUsedStep: null }), {
        ok: false,
        reason: 'invalid',
      });
    }
  });

  it('moves the window with the clock', () => {
    const code = codeFor(now);
    const later = at(clock.now() + 30_000);
    assert.deepEqual(verifyTotp(secret, code, { clock: later, lastUsedStep: null }), { ok: true, step: now });
    const muchLater = at(clock.now() + 60_000);
    assert.deepEqual(verifyTotp(secret, code, { clock: muchLater, lastUsedStep: null }), {
      ok: false,
      reason: 'invalid',
    });
  });

  it('rejects a wrong code', () => {
    const wrong = String((Number(codeFor(now)) + 1) % 1_000_000).padStart(6, '0');
    assert.notEqual(wrong, codeFor(now - 1));
    assert.deepEqual(verifyTotp(secret, wrong, { clock, lastUsedStep: null }), { ok: false, reason: 'invalid' });
  });

  it('rejects replay of a used step, and of anything older', () => {
    const first = verifyTotp(secret, codeFor(now), { clock, lastUsedStep: null });
    assert.deepEqual(first, { ok: true, step: now });
    assert.deepEqual(verifyTotp(secret, codeFor(now), { clock, lastUsedStep: now }), {
      ok: false,
      reason: 'replayed',
    });
    assert.deepEqual(verifyTotp(secret, codeFor(now - 1), { clock, lastUsedStep: now }), {
      ok: false,
      reason: 'replayed',
    });
    // Still replayed when the clock has moved on but the code remains inside the window.
    assert.deepEqual(verifyTotp(secret, codeFor(now), { clock: at(clock.now() + 30_000), lastUsedStep: now }), {
      ok: false,
      reason: 'replayed',
    });
  });

  it('accepts the current step after the previous step was used', () => {
    assert.deepEqual(verifyTotp(secret, codeFor(now), { clock, lastUsedStep: now - 1 }), { ok: true, step: now });
  });

  it('rejects malformed codes before doing any crypto', () => {
    const valid = codeFor(now);
    const malformed = [
      '',
      valid.slice(0, 5),
      `${valid}0`,
      ` ${valid}`,
      `${valid} `,
      `${valid.slice(0, 3)} ${valid.slice(3)}`,
      '12345a',
      '-12345',
      '+12345',
      '1234.5',
      '１２３４５６', // full-width digits
      '١٢٣٤٥٦', // Arabic-Indic digits
      '12345\n',
    ];
    for (const code of malformed) {
      assert.deepEqual(verifyTotp(secret, code, { clock, lastUsedStep: null }), { ok: false, reason: 'malformed' });
    }
    assert.deepEqual(verifyTotp(secret, 123456 as unknown as string, { clock, lastUsedStep: null }), {
      ok: false,
      reason: 'malformed',
    });
  });

  it('requires exactly the configured number of digits', () => {
    const eight = totpCode(secret, now, { digits: 8 });
    assert.deepEqual(verifyTotp(secret, eight, { clock, lastUsedStep: null, digits: 8 }), { ok: true, step: now });
    assert.deepEqual(verifyTotp(secret, eight, { clock, lastUsedStep: null }), { ok: false, reason: 'malformed' });
    assert.deepEqual(verifyTotp(secret, codeFor(now), { clock, lastUsedStep: null, digits: 8 }), {
      ok: false,
      reason: 'malformed',
    });
  });

  it('honours a non-default period', () => {
    const step = currentStep(clock, 60);
    const code = totpCode(secret, step);
    assert.deepEqual(verifyTotp(secret, code, { clock, lastUsedStep: null, period: 60 }), { ok: true, step });
  });

  it('does not look before step 0', () => {
    const code = codeFor(0);
    assert.deepEqual(verifyTotp(secret, code, { clock: at(5_000), lastUsedStep: null }), { ok: true, step: 0 });
  });
});

describe('otpauthUri', () => {
  it('spells out every parameter', () => {
    assert.equal(
      otpauthUri({ secret: seeds.SHA1, accountName: 'anna@example.com', issuer: 'Numezis' }),
      'otpauth://totp/Numezis:anna%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Numezis&algorithm=SHA1&digits=6&period=30',
    );
  });

  it('encodes issuer and account so neither can break the label or the query', () => {
    const uri = otpauthUri({ secret: seeds.SHA1, accountName: 'Anna Müller:admin', issuer: 'Muster & Co' });
    assert.equal(
      uri,
      'otpauth://totp/Muster%20%26%20Co:Anna%20M%C3%BCller%3Aadmin?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Muster%20%26%20Co&algorithm=SHA1&digits=6&period=30',
    );
    const parsed = new URL(uri);
    assert.equal(parsed.protocol, 'otpauth:');
    assert.equal(parsed.searchParams.get('issuer'), 'Muster & Co');
    assert.deepEqual(base32Decode(parsed.searchParams.get('secret') ?? ''), seeds.SHA1);
  });
});
