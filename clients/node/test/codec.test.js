'use strict';
// Unit tests: text and binary forms, no database.
const { test, describe } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const {
  Money, Currency, MonetaryError, MAX_UNITS, ISO4217, isoScale, parseMonetary, formatMonetary,
  parseCurrency, formatCurrency, parseAmount, formatUnits, asParam, encodeMonetary, decodeMonetary,
  encodeCurrency, decodeCurrency, decodeArrayBinary, isRetryable, isConnectionLoss, withRetry,
  RETRYABLE_SQLSTATES,
} = require('..');

const hex = (s) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const throwsCode = (fn, code) => assert.throws(fn, (e) => {
  assert.equal(e.code, code, `expected ${code}, got ${e.code}: ${e.message}`);
  return true;
});

// Every ISO scale the table has (0, 2, 3, 4) and the largest scale, 18.
const SCALES = [['JPY', 0, 'JPY'], ['USD', 2, 'USD'], ['BHD', 3, 'BHD'], ['CLF', 4, 'CLF'],
  ['ETH', 18, 'ETH/18'], ['USD', 4, 'USD/4'], ['XAU', 2, 'XAU/2'], ['A1B2C3D4', 7, 'A1B2C3D4/7']];

describe('text form', () => {
  test('formats with exactly the currency\'s decimals', () => {
    assert.equal(new Money(1234n, 'USD').toString(), '12.34 USD');
    assert.equal(new Money(-5n, 'USD').toString(), '-0.05 USD');
    assert.equal(new Money(0n, 'USD').toString(), '0.00 USD');
    assert.equal(new Money(1000n, 'JPY').toString(), '1000 JPY');
    assert.equal(new Money(1n, 'BHD').toString(), '0.001 BHD');
    assert.equal(new Money(-12345n, 'CLF').toString(), '-1.2345 CLF');
    assert.equal(new Money(15n * 10n ** 17n, 'ETH', 18).toString(), '1.500000000000000000 ETH/18');
    assert.equal(new Money(1n, 'ETH', 18).toString(), '0.000000000000000001 ETH/18');
    assert.equal(new Money(123456n, 'USD', 4).toString(), '12.3456 USD/4');
    assert.equal(new Money(7n, 'PTS', 0).toString(), '7 PTS/0');
    assert.equal(Money.of('12.34', 'USD').toString(), '12.34 USD');
    assert.equal(Money.of(5n, 'ETH/18').toString(), '5.000000000000000000 ETH/18');
    assert.equal(formatMonetary(Money.of('-1', 'JPY')), '-1 JPY');
  });

  test('extreme values round-trip at every ISO scale and at scale 18', () => {
    for (const [code, scale, text] of SCALES) {
      for (const units of [MAX_UNITS, -MAX_UNITS, 0n, 1n, -1n, 10n ** 19n]) {
        const m = new Money(units, code, scale);
        const s = m.toString();
        assert.ok(s.endsWith(` ${text}`), s);
        assert.deepEqual(parseMonetary(s), m);
        assert.deepEqual(decodeMonetary(encodeMonetary(m)), m);
      }
    }
    assert.equal(new Money(MAX_UNITS, 'USD').toString(), '999999999999999999999999999999999999.99 USD');
    assert.equal(new Money(-MAX_UNITS, 'ETH', 18).toString(),
      '-99999999999999999999.999999999999999999 ETH/18');
    assert.equal(new Money(MAX_UNITS, 'JPY').toString(), '99999999999999999999999999999999999999 JPY');
  });

  test('reads what monetary_in reads, to the same value', () => {
    const cases = [
      ['12.34 USD', 1234n, 'USD', 2], ['USD 12.3', 1230n, 'USD', 2], ['12.34 usd', 1234n, 'USD', 2],
      ['  \t1\n  JPY \r', 1n, 'JPY', 0], ['+1 USD', 100n, 'USD', 2], ['0012.30 USD', 1230n, 'USD', 2],
      ['12.340000 USD', 1234n, 'USD', 2], ['-0.00 USD', 0n, 'USD', 2], ['1 usd/002', 100n, 'USD', 2],
      ['1 USD/004', 10000n, 'USD', 4], ['1 BEC/0', 1n, 'BEC', 0], ['1 eth/18', 10n ** 18n, 'ETH', 18],
      ['1.5 QQQ/2', 150n, 'QQQ', 2], ['0.001 BHD', 1n, 'BHD', 3], ['-0.0001 CLF', -1n, 'CLF', 4],
      ['{"amount": "19.99", "currency": "EUR"}', 1999n, 'EUR', 2],
      [' {"currency": "ETH/18", "amount": "-1"}', -(10n ** 18n), 'ETH', 18],
      ['99999999999999999999999999999999999999 JPY', MAX_UNITS, 'JPY', 0],
      ['0000000000999999999999999999999999999999999999.99 USD', MAX_UNITS, 'USD', 2],
    ];
    for (const [text, units, currency, scale] of cases) {
      assert.deepEqual(parseMonetary(text), new Money(units, currency, scale), text);
    }
  });

  test('refuses what monetary_in refuses, with its SQLSTATE', () => {
    const cases = [
      ['12.345 USD', '22P02'], ['1e5 USD', '22P02'], ['.5 USD', '22P02'], ['5. USD', '22P02'],
      ['NaN USD', '22P02'], ['Infinity USD', '22P02'], ['--1 USD', '22P02'], ['1,000 USD', '22P02'],
      ['1 BEC', '22P02'], ['1 XAU', '22P02'], ['1 QQQ', '22P02'], ['1 US', '22P02'],
      ['1 ABCDEFGHI/2', '22P02'], ['1 USD/', '22P02'], ['1 USD/x', '22P02'], ['1 US$', '22P02'],
      ['1 USD/19', '22003'], ['1 USD/99999999999999999999', '22003'], ['1x USD/99', '22P02'],
      ['100000000000000000000000000000000000000 JPY', '22003'],
      ['1000000000000000000000000000000000000.00 USD', '22003'],
      ['99999999999999999999999999999999999999999x USD', '22P02'],
      ['12.34', '22P02'], ['USD', '22P02'], ['1 USD EUR', '22P02'], ['', '22P02'], ['USD EUR', '22P02'],
      ['{"amount": 1.5, "currency": "USD"}', '22P02'], ['{"amount": "1"}', '22P02'],
      ['{"amount": "1", "currency": "USD", "x": 1}', '22P02'], ['{"amount": "1 ", "currency": "USD"}', '22P02'],
      ['{nope', '22P02'], ['1\u00a0USD', '22P02'],
    ];
    for (const [text, code] of cases) throwsCode(() => parseMonetary(text), code);
    assert.throws(() => parseMonetary(12.34), TypeError);
  });

  test('currency text', () => {
    assert.deepEqual(parseCurrency('usd'), new Currency('USD', 2));
    assert.deepEqual(parseCurrency('USD/4'), new Currency('USD', 4));
    assert.equal(parseCurrency('USD/02').toString(), 'USD');
    assert.equal(parseCurrency('eth/18').toString(), 'ETH/18');
    assert.equal(parseCurrency('XAU/0').toString(), 'XAU/0');
    assert.equal(formatCurrency('JPY', 0), 'JPY');
    assert.equal(formatCurrency('JPY', 2), 'JPY/2');
    assert.equal(new Currency('clf').toString(), 'CLF');
    throwsCode(() => parseCurrency('XAU'), '22P02');
    throwsCode(() => parseCurrency('USD/19'), '22003');
    throwsCode(() => new Currency('ETH'), '22P02');
    throwsCode(() => new Currency('USD', 19), '22003');
    throwsCode(() => new Currency('USD', 1.5), '22003');
    assert.equal(isoScale('USD'), 2);
    assert.equal(isoScale('XAU'), undefined);
    assert.equal(isoScale('ETH'), undefined);
  });

  test('amounts never go through a Number', () => {
    assert.throws(() => new Money(1234, 'USD'), TypeError);
    assert.throws(() => Money.of(12.34, 'USD'), TypeError);
    throwsCode(() => new Money(MAX_UNITS + 1n, 'USD'), '22003');
    throwsCode(() => new Money(-MAX_UNITS - 1n, 'USD'), '22003');
    throwsCode(() => Money.of('0.001', 'USD'), '22P02');
    assert.equal(parseAmount('12.3400', 2), 1234n);
    assert.equal(formatUnits(-1n, 18), '-0.000000000000000001');
    assert.equal(Money.of('0.1', 'USD').add(Money.of('0.2', 'USD')).toString(), '0.30 USD');
  });

  test('values, arithmetic and parameters', () => {
    const a = Money.of('10.00', 'USD');
    assert.equal(a.amount, '10.00');
    assert.equal(a.currencyText, 'USD');
    assert.deepEqual(a.toJSON(), { amount: '10.00', currency: 'USD' });
    assert.equal(JSON.stringify({ price: Money.of('1', 'ETH/18') }),
      '{"price":{"amount":"1.000000000000000000","currency":"ETH/18"}}');
    assert.equal(a.toPostgres(), '10.00 USD');
    assert.equal(new Currency('ETH', 18).toPostgres(), 'ETH/18');
    assert.equal(asParam('usd 1.5'), '1.50 USD');
    assert.equal(asParam(a), '10.00 USD');
    assert.equal(asParam(null), null);
    throwsCode(() => asParam('1.555 USD'), '22P02');
    assert.ok(a.equals(Money.of('10', 'USD')));
    assert.ok(!a.equals(Money.of('10', 'USD/4')));
    assert.equal(a.subtract(Money.of('10.01', 'USD')).toString(), '-0.01 USD');
    assert.equal(a.negate().toString(), '-10.00 USD');
    assert.equal(a.compare(Money.of('9.99', 'USD')), 1);
    throwsCode(() => a.add(Money.of('1', 'EUR')), '22000');
    throwsCode(() => a.add(Money.of('1', 'USD/4')), '22000');
    throwsCode(() => new Money(MAX_UNITS, 'USD').add(new Money(1n, 'USD')), '22003');
    assert.ok(Object.isFrozen(a));
  });
});

describe('binary wire format', () => {
  test('known encodings', () => {
    // 12.34 USD: count 1234 = 0x4d2 in 16 bytes, then len 3, "USD", scale 2
    assert.deepEqual(encodeMonetary(Money.of('12.34', 'USD')),
      hex('0000000000000000 00000000000004d2 03 555344 02'));
    // -1 minor unit: all ones in two's complement
    assert.deepEqual(encodeMonetary(new Money(-1n, 'USD')),
      hex('ffffffffffffffff ffffffffffffffff 03 555344 02'));
    assert.deepEqual(encodeMonetary(new Money(MAX_UNITS, 'JPY')),
      hex('4b3b4ca85a86c47a 098a223fffffffff 03 4a5059 00'));
    assert.deepEqual(encodeMonetary(new Money(-MAX_UNITS, 'JPY')),
      hex('b4c4b357a5793b85 f675ddc000000001 03 4a5059 00'));
    assert.deepEqual(encodeMonetary(Money.of('1.5', 'ETH/18')),
      hex('0000000000000000 14d1120d7b160000 03 455448 12'));
    assert.deepEqual(encodeMonetary(new Money(1n, 'ABCDEFGH', 7)),
      hex('0000000000000000 0000000000000001 08 4142434445464748 07'));
    assert.deepEqual(encodeCurrency(new Currency('USD')), hex('03 555344 02'));
    assert.deepEqual(encodeCurrency('USD/4'), hex('03 555344 04'));
    assert.deepEqual(decodeCurrency(hex('03 455448 12')), new Currency('ETH', 18));
    assert.deepEqual(decodeMonetary(hex('ffffffffffffffff fffffffffffffb2e 03 555344 02')),
      Money.of('-12.34', 'USD'));
    // a Uint8Array view into a larger buffer
    const big = Buffer.concat([hex('aa'), encodeMonetary(Money.of('1', 'BHD')), hex('bb')]);
    assert.deepEqual(decodeMonetary(new Uint8Array(big.buffer, big.byteOffset + 1, big.length - 2)),
      Money.of('1', 'BHD'));
  });

  test('every scale and both ends of the range round-trip', () => {
    for (let scale = 0; scale <= 18; scale++) {
      for (const units of [MAX_UNITS, -MAX_UNITS, 10n ** 37n, -(10n ** 19n), 1n << 64n, -(1n << 63n),
        (1n << 64n) - 1n, -(1n << 64n)]) {
        const m = new Money(units, 'XTS', scale);
        const b = encodeMonetary(m);
        assert.equal(b.length, 21);
        assert.deepEqual(decodeMonetary(b), m);
      }
    }
  });

  test('decoding is as strict as monetary_recv', () => {
    const good = encodeMonetary(Money.of('1', 'USD'));
    throwsCode(() => decodeMonetary(good.subarray(0, 15)), '22P03');
    throwsCode(() => decodeMonetary(good.subarray(0, 20)), '22P03');
    throwsCode(() => decodeMonetary(Buffer.concat([good, hex('00')])), '22P03');
    throwsCode(() => decodeMonetary(hex('00000000000000000000000000000001 02 5553 02')), '22P03');
    throwsCode(() => decodeMonetary(hex('00000000000000000000000000000001 09 414243444546474849 02')), '22P03');
    throwsCode(() => decodeMonetary(hex('00000000000000000000000000000001 03 757364 02')), '22P03'); // 'usd'
    throwsCode(() => decodeMonetary(hex('00000000000000000000000000000001 03 55532f 02')), '22P03'); // 'US/'
    throwsCode(() => decodeMonetary(hex('00000000000000000000000000000001 03 555344 13')), '22P03'); // 19
    // 10^38 and -10^38: outside the range
    throwsCode(() => decodeMonetary(hex('4b3b4ca85a86c47a 098a224000000000 03 555344 02')), '22003');
    throwsCode(() => decodeMonetary(hex('b4c4b357a5793b85 f675ddc000000000 03 555344 02')), '22003');
    throwsCode(() => decodeMonetary(hex('80000000000000000000000000000000 03 555344 02')), '22003');
    throwsCode(() => decodeCurrency(hex('03 555344 02 00')), '22P03');
    assert.throws(() => decodeMonetary('not bytes'), TypeError);
  });

  test('binary arrays', () => {
    const a = encodeMonetary(Money.of('1', 'USD'));
    const b = encodeMonetary(Money.of('-2', 'ETH/18'));
    const int32 = (v) => { const x = Buffer.alloc(4); x.writeInt32BE(v); return x; };
    const oneDim = Buffer.concat([int32(1), int32(1), int32(12345), int32(3), int32(1),
      int32(a.length), a, int32(-1), int32(b.length), b]);
    assert.deepEqual(decodeArrayBinary(oneDim, decodeMonetary),
      [Money.of('1', 'USD'), null, Money.of('-2', 'ETH/18')]);
    const twoDim = Buffer.concat([int32(2), int32(0), int32(12345), int32(2), int32(1), int32(1), int32(0),
      int32(a.length), a, int32(b.length), b]);
    assert.deepEqual(decodeArrayBinary(twoDim, decodeMonetary), [[Money.of('1', 'USD')], [Money.of('-2', 'ETH/18')]]);
    assert.deepEqual(decodeArrayBinary(Buffer.concat([int32(0), int32(0), int32(12345)]), decodeMonetary), []);
    throwsCode(() => decodeArrayBinary(oneDim.subarray(0, oneDim.length - 1), decodeMonetary), '22P03');
  });
});

describe('ISO 4217 table', () => {
  const source = path.join(__dirname, '..', '..', '..', 'src', 'iso4217.c');
  test('is the extension\'s (src/iso4217.c)', { skip: !fs.existsSync(source) && 'no src/iso4217.c here' }, () => {
    const rows = [...fs.readFileSync(source, 'utf8').matchAll(/\{"([A-Z]{3})",\s*(-?\d+),\s*(true|false)\}/g)];
    assert.ok(rows.length > 250);
    const fromC = Object.fromEntries(rows.map(([, code, minor, withdrawn]) =>
      [code, { code, minorUnits: Number(minor), withdrawn: withdrawn === 'true' }]));
    assert.deepEqual({ ...ISO4217 }, fromC);
  });
});

describe('retry classification', () => {
  const dbError = (code) => Object.assign(new Error(`sqlstate ${code}`), { code });
  test('SQLSTATEs', () => {
    assert.deepEqual([...RETRYABLE_SQLSTATES], ['40001', '40P01', '55P03', '57014']);
    for (const code of ['40001', '40P01', '55P03', '57014', '57P01', '08006', '08003']) {
      assert.ok(isRetryable(dbError(code)), code);
    }
    for (const code of ['23L01', '23I01', '23505', '22P02', '55L01', '42883', '23503']) {
      assert.ok(!isRetryable(dbError(code)), code);
    }
  });
  test('lost connections have no SQLSTATE', () => {
    assert.ok(isConnectionLoss(new Error('Connection terminated unexpectedly')));
    assert.ok(isConnectionLoss(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })));
    assert.ok(isConnectionLoss(Object.assign(new Error('x'), { code: 'ENOENT', syscall: 'connect' })));
    assert.ok(!isConnectionLoss(new TypeError('x is not a function')));
    assert.ok(!isConnectionLoss(null));
    assert.ok(!isRetryable(new TypeError('x')));
  });

  // A pool whose clients fail as scripted.
  function fakePool(script) {
    const log = [];
    let attempt = 0;
    return {
      log,
      async connect() {
        const step = script[attempt++];
        if (step === 'refused') throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
        return {
          on() {}, removeListener() {},
          async query(text) { log.push(text); if (text === 'COMMIT' && step === 'commit-lost') throw new Error('Connection terminated unexpectedly'); },
          release(destroy) { log.push(destroy ? 'destroy' : 'release'); },
          step,
        };
      },
    };
  }

  test('withRetry retries what may be retried, with the same call', async () => {
    const pool = fakePool(['refused', '40001', 'lost', 'commit-lost', 'ok']);
    const seen = [];
    const result = await withRetry(pool, async (client, attempt) => {
      seen.push(attempt);
      if (client.step === '40001') throw dbError('40001');
      if (client.step === 'lost') throw new Error('Connection terminated unexpectedly');
      return 'posted';
    }, { isolation: 'REPEATABLE READ', baseDelayMs: 1 });
    assert.equal(result, 'posted');
    assert.deepEqual(seen, [2, 3, 4, 5]);
    assert.deepEqual(pool.log, [
      'BEGIN ISOLATION LEVEL REPEATABLE READ', 'ROLLBACK', 'release', // 40001: rolled back, reused
      'BEGIN ISOLATION LEVEL REPEATABLE READ', 'destroy', // lost: the client is dropped
      'BEGIN ISOLATION LEVEL REPEATABLE READ', 'COMMIT', 'destroy', // commit lost: unknown outcome
      'BEGIN ISOLATION LEVEL REPEATABLE READ', 'COMMIT', 'release']);
  });

  test('withRetry throws a business error at once, and gives up after `attempts`', async () => {
    let calls = 0;
    await assert.rejects(withRetry(fakePool(['ok']), async () => { calls++; throw dbError('23L01'); }),
      (e) => e.code === '23L01');
    assert.equal(calls, 1);
    calls = 0;
    await assert.rejects(withRetry(fakePool(Array(5).fill('ok')), async () => { calls++; throw dbError('40P01'); },
      { attempts: 3, baseDelayMs: 1 }), (e) => e.code === '40P01');
    assert.equal(calls, 3);
    await assert.rejects(withRetry(fakePool([]), async () => 1, { isolation: 'READ UNCOMMITTED' }), TypeError);
  });
});

test('MonetaryError is an Error with a code', () => {
  const e = new MonetaryError('x', '22P02');
  assert.ok(e instanceof Error);
  assert.equal(e.code, '22P02');
});
