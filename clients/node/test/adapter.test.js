'use strict';
/*
 * Against a live database given by the libpq environment variables (PGHOST,
 * PGPORT, PGUSER, PGDATABASE; node-postgres reads them), in which
 * `CREATE EXTENSION payments CASCADE` has been run.  Everything written goes
 * to a ledger of its own with a random name, so reruns on one database work.
 * Skipped when PGDATABASE is not set.
 */
const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const pg = require('pg');

const {
  Money, Currency, MAX_UNITS, ISO4217, formatCurrency, parseMonetary, encodeMonetary, decodeMonetary,
  encodeCurrency, register, withRetry, isConnectionLoss, createAccount, postTransfer, balance,
} = require('..');

const SKIP = !process.env.PGDATABASE && 'PGDATABASE is not set: no database to test against';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Every ISO scale (0 JPY, 2 USD, 3 BHD, 4 CLF), scale 18, a non-ISO scale of an ISO code,
// a code ISO gives no minor unit, and the longest code.
const CURRENCIES = [['JPY', 0], ['USD', 2], ['BHD', 3], ['CLF', 4], ['ETH', 18], ['USD', 4], ['XAU', 2],
  ['A1B2C3D4', 7]];
const EXTREMES = CURRENCIES.flatMap(([code, scale]) =>
  [MAX_UNITS, -MAX_UNITS, 0n, 1n, -1n, 10n ** 19n].map((units) => new Money(units, code, scale)));

// The server's answer to monetary text: its output, or the SQLSTATE it raises.
async function serverReads(pool, text, type = 'monetary') {
  try {
    const { rows } = await pool.query(`SELECT $1::${type}::text AS t`, [text]);
    return rows[0].t;
  } catch (e) {
    return e.code;
  }
}

function clientReads(text, parse = parseMonetary) {
  try {
    return parse(text).toString();
  } catch (e) {
    return e.code;
  }
}

// Polls until the query returns a row, at most 10 s.
async function waitFor(pool, text, values) {
  for (let i = 0; i < 500; i++) {
    const { rows } = await pool.query(text, values);
    if (rows.length > 0) return rows[0];
    await sleep(20);
  }
  throw new Error(`timed out waiting for: ${text}`);
}

function barrier(n) {
  let count = 0;
  let open;
  const opened = new Promise((resolve) => { open = resolve; });
  return () => {
    count += 1;
    if (count === n) open();
    return opened;
  };
}

describe('against the database', { skip: SKIP }, () => {
  let pool;
  let oids;
  let superuser;
  let jsonForm; // whether this server's monetary_in reads the JSON form (added in 1.1's development)
  const ledger = `node_${crypto.randomBytes(5).toString('hex')}`;
  const key = (name) => `${ledger}:${name}`;
  const account = (name, currency, options = {}) =>
    createAccount(pool, { name, currency, ledger, ...options });

  before(async () => {
    pool = new pg.Pool({ max: 10, application_name: 'monetary-node-test' });
    pool.on('error', () => {}); // an idle client whose backend was terminated
    oids = await register(pool);
    superuser = (await pool.query('SELECT rolsuper FROM pg_roles WHERE rolname = current_user')).rows[0].rolsuper;
    jsonForm = (await serverReads(pool, '{"amount": "1", "currency": "USD"}')) === '1.00 USD';
  });

  after(async () => {
    if (pool) await pool.end();
  });

  test('register() finds the types in the schema of extension monetary', async () => {
    const { rows: [r] } = await pool.query(`
      SELECT n.nspname AS schema,
             (SELECT oid FROM pg_type WHERE typnamespace = n.oid AND typname = 'monetary')::text AS monetary,
             (SELECT oid FROM pg_type WHERE typnamespace = n.oid AND typname = '_currency')::text AS currency_array
        FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'monetary'`);
    assert.equal(oids.schema, r.schema);
    assert.equal(oids.monetary, Number(r.monetary));
    assert.equal(oids.currencyArray, Number(r.currency_array));
    assert.equal(typeof oids.binaryResults, 'boolean');
    const { rows: [v] } = await pool.query("SELECT '12.34 USD'::monetary AS m, 'ETH/18'::currency AS c, NULL::monetary AS n");
    assert.deepEqual(v, { m: new Money(1234n, 'USD'), c: new Currency('ETH', 18), n: null });
  });

  test('extreme values round-trip as parameters, at every ISO scale and at scale 18', async () => {
    for (const v of EXTREMES) {
      const { rows: [r] } = await pool.query(`
        SELECT $1::monetary AS m, $1::monetary::text AS t, minor_units($1::monetary)::text AS units,
               currency($1::monetary)::text AS cur, scale(currency($1::monetary)) AS scale`, [v]);
      assert.deepEqual(r.m, v);
      assert.equal(r.t, v.toString());
      assert.equal(BigInt(r.units), v.units); // read by the server, not by us
      assert.equal(r.cur, v.currencyText);
      assert.equal(r.scale, v.scale);
    }
  });

  test('text the server computes is read exactly', async () => {
    const { rows: [r] } = await pool.query(`
      SELECT monetary(99999999999999999999999999999999999999, 'JPY') AS jpy,
             -monetary(999999999999999999999999999999999999.99, 'USD') AS usd,
             monetary(99999999999999999999.999999999999999999, 'ETH/18') AS eth,
             -monetary(9999999999999999999999999999999999.9999, 'CLF') AS clf,
             '0.001 BHD'::monetary * 7 AS bhd,
             (SELECT sum(x) FROM unnest(ARRAY['0.1 USD', '0.2 USD']::monetary[]) x) AS sum,
             '99999999999999999999999999999999999998 JPY'::monetary + '1 JPY' AS top,
             monetary(2.675, 'USD', 'half_even') AS rounded`);
    assert.deepEqual(r, {
      jpy: new Money(MAX_UNITS, 'JPY'),
      usd: new Money(-MAX_UNITS, 'USD'),
      eth: new Money(MAX_UNITS, 'ETH', 18),
      clf: new Money(-MAX_UNITS, 'CLF'),
      bhd: new Money(7n, 'BHD'),
      sum: Money.of('0.30', 'USD'),
      top: new Money(MAX_UNITS, 'JPY'),
      rounded: Money.of('2.68', 'USD'),
    });
  });

  test('the JSON form: what the server writes, the client reads', async (t) => {
    if (!jsonForm) {
      t.skip('this server\'s monetary does not read the JSON form yet');
      return;
    }
    const { rows: [j] } = await pool.query(`
      SELECT to_jsonb('-1.5 ETH/18'::monetary)::text AS j,
             '{"amount": "19.99", "currency": "EUR"}'::jsonb::text::monetary AS m`);
    assert.deepEqual(parseMonetary(j.j), Money.of('-1.5', 'ETH/18'));
    assert.deepEqual(JSON.parse(j.j), Money.of('-1.5', 'ETH/18').toJSON());
    assert.deepEqual(j.m, Money.of('19.99', 'EUR'));
  });

  test('the client reads and refuses monetary text as monetary_in does', async () => {
    const texts = ['12.34 USD', 'USD 12.3', ' \t-0.50 eur\n', '+1 USD', '0012.30 usd', '12.340 USD', '-0.00 USD',
      '1 usd/002', '1 USD/004', '1 BEC/0', '1.5 ETH/18', '1 qqq/2', '1 A1B2C3D4/7',
      '{"amount": "1.5", "currency": "EUR"}', '{"currency": "ETH/18", "amount": "-2"}',
      '99999999999999999999999999999999999999 JPY', '-999999999999999999999999999999999999.99 USD',
      '12.345 USD', '1e5 USD', '.5 USD', '5. USD', 'NaN USD', 'Infinity EUR', '--1 USD', '1,000 USD',
      '1 BEC', '1 XAU', '1 QQQ', '1 US', '1 ABCDEFGHI/2', '1 USD/', '1 USD/19', '1 USD/0000000000000000000000019',
      '1x USD/99', '100000000000000000000000000000000000000 JPY', '1000000000000000000000000000000000000.00 USD',
      '99999999999999999999999999999999999999999x USD', '12.34', '1 USD EUR', '', 'USD EUR',
      '{"amount": 1.5, "currency": "USD"}', '{"amount": "1"}', '{"amount": "1 ", "currency": "USD"}', '{nope',
      '1\u00a0USD'];
    for (const text of texts) {
      if (text.trimStart().startsWith('{') && !jsonForm) continue; // see the JSON form test
      assert.equal(clientReads(text), await serverReads(pool, text), JSON.stringify(text));
    }
  });

  test('currency texts agree with the server for every ISO code', async () => {
    const codes = Object.keys(ISO4217);
    const { rows } = await pool.query(`
      SELECT c, s, (c || '/' || s)::currency::text AS out
        FROM unnest($1::text[]) c, unnest(ARRAY[0, 1, 2, 3, 4, 18]) s`, [codes]);
    assert.equal(rows.length, codes.length * 6);
    for (const r of rows) assert.equal(r.out, formatCurrency(r.c, r.s), `${r.c}/${r.s}`);
    for (const text of [...codes, 'ETH', 'QQQ', 'usd', 'eth/18', 'XAU/2', 'USD/19', 'US', 'ABCDEFGHI']) {
      assert.equal(clientReads(text, Currency.parse), await serverReads(pool, text, 'currency'), text);
    }
  });

  test('arrays of monetary and currency, both ways', async () => {
    const values = [Money.of('1.00', 'USD'), null, new Money(-MAX_UNITS, 'ETH', 18), Money.of('0', 'JPY')];
    const { rows: [r] } = await pool.query(`
      SELECT $1::monetary[] AS a, $2::currency[] AS c, split('100.00 USD'::monetary, 3) AS parts,
             ARRAY[['1 USD', '2 BHD'], ['3 JPY', NULL]]::monetary[] AS two, '{}'::monetary[] AS empty,
             '[0:1]={"1 USD","2 USD"}'::monetary[] AS bounds, NULL::monetary[] AS nothing,
             array_length($1::monetary[], 1) AS n`,
    [values, [new Currency('USD'), 'eth/18', null]]);
    assert.deepEqual(r.a, values);
    assert.deepEqual(r.c, [new Currency('USD'), new Currency('ETH', 18), null]);
    assert.deepEqual(r.parts, ['33.34', '33.33', '33.33'].map((a) => Money.of(a, 'USD')));
    assert.deepEqual(r.two, [[Money.of('1', 'USD'), Money.of('2', 'BHD')], [Money.of('3', 'JPY'), null]]);
    assert.deepEqual(r.empty, []);
    assert.deepEqual(r.bounds, [Money.of('1', 'USD'), Money.of('2', 'USD')]);
    assert.equal(r.nothing, null);
    assert.equal(r.n, 4);
    const { rows: [e] } = await pool.query('SELECT $1::monetary[] AS a', [EXTREMES]);
    assert.deepEqual(e.a, EXTREMES);
  });

  test('the binary codec is what monetary_send writes and monetary_recv reads', async () => {
    for (const v of EXTREMES) {
      const { rows: [r] } = await pool.query(
        'SELECT monetary_send($1::monetary) AS m, currency_send(currency($1::monetary)) AS c', [v]);
      assert.ok(r.m.equals(encodeMonetary(v)), `${v}: ${r.m.toString('hex')}`);
      assert.deepEqual(decodeMonetary(r.m), v);
      assert.ok(r.c.equals(encodeCurrency(v.currency, v.scale)));
      // a Buffer parameter is sent in binary format: the server reads it with monetary_recv
      const { rows: [b] } = await pool.query('SELECT $1::monetary::text AS t, $2::currency::text AS c',
        [encodeMonetary(v), encodeCurrency(v.currency, v.scale)]);
      assert.equal(b.t, v.toString());
      assert.equal(b.c, v.currencyText);
    }
    const refused = async (hex) => {
      try {
        await pool.query('SELECT $1::monetary', [Buffer.from(hex.replace(/ /g, ''), 'hex')]);
        return 'read';
      } catch (e) {
        return e.code;
      }
    };
    assert.equal(await refused('4b3b4ca85a86c47a 098a224000000000 03 555344 02'), '22003'); // 10^38
    assert.equal(await refused('00000000000000000000000000000001 03 757364 02'), '22P03'); // 'usd'
    assert.equal(await refused('00000000000000000000000000000001 03 555344 13'), '22P03'); // scale 19
    assert.equal(await refused('00000000000000000000000000000001 09 414243444546474849 02'), '22P03');
    assert.equal(await refused('00000000000000000000000000000001 03 555344 02 00'), '22P03'); // trailing
  });

  test('binary results: exact, or refused, never a wrong amount', async () => {
    const v = Money.of('12.34', 'USD'); // byte 0xd2: not UTF-8 on its own
    const query = { text: 'SELECT $1::monetary AS m', values: [v], binary: true };
    if (oids.binaryResults) {
      assert.deepEqual((await pool.query(query)).rows[0].m, v);
    } else {
      await assert.rejects(pool.query(query), (e) => e.code === 'ERR_PG_BINARY_RESULTS');
    }
    // the decoders on node-postgres's binary path, with values whose bytes survive it anyway
    const types = new pg.TypeOverrides();
    await register(pool, { types, binaryResults: true });
    const safe = [Money.of('1.00', 'USD'), new Money(0x7fn, 'ETH', 18), Money.of('-0', 'JPY')];
    for (const s of safe) {
      const { rows: [r] } = await pool.query({ text: 'SELECT $1::monetary AS m, currency($1::monetary) AS c',
        values: [s], binary: true, types });
      assert.deepEqual(r, { m: s, c: s.currencyObject });
    }
  });

  test('concurrent transfers with retries end in exact balances', async (t) => {
    const users = 8;
    const bank = await account('bank', 'USD', { normalBalance: 'debit', allowNegative: true });
    const wallets = [];
    for (let i = 0; i < users; i++) wallets.push(await account(`user${i}`, 'USD'));
    const expected = new Map([[bank, 0n], ...wallets.map((w) => [w, 0n])]);
    const move = (from, to, units) => { // debit-normal bank grows with debits, wallets with credits
      expected.set(from, expected.get(from) + (from === bank ? units : -units));
      expected.set(to, expected.get(to) + units);
    };
    const retries = {};
    const onRetry = (err) => { const c = err.code || 'connection'; retries[c] = (retries[c] || 0) + 1; };

    const deposits = wallets.map((w, i) => ({ from: bank, to: w, amount: Money.of('1000.00', 'USD'),
      idempotencyKey: key(`deposit-${i}`) }));
    const transfers = Array.from({ length: 200 }, (_, i) => {
      const from = crypto.randomInt(users);
      const to = (from + 1 + crypto.randomInt(users - 1)) % users;
      return { from: wallets[from], to: wallets[to], amount: new Money(BigInt(1 + crypto.randomInt(5000)), 'USD'),
        idempotencyKey: key(`t-${i}`), metadata: { n: i } };
    });
    // Half in REPEATABLE READ (which meets 40001 under contention), all with a short lock_timeout (55P03).
    const post = (t, i) => withRetry(pool, async (client) => {
      await client.query("SET LOCAL lock_timeout = '25ms'");
      return postTransfer(client, t);
    }, { isolation: i % 2 ? 'REPEATABLE READ' : 'READ COMMITTED', attempts: 100, baseDelayMs: 5, maxDelayMs: 100,
      onRetry });

    const depositIds = await Promise.all(deposits.map(post));
    deposits.forEach((t) => move(t.from, t.to, t.amount.units));
    const outcomes = await Promise.all(transfers.map((t, i) => post(t, i).then(
      (id) => ({ id }), (err) => { if (err.code !== '23L01') throw err; return { declined: true }; })));
    outcomes.forEach((o, i) => { if (!o.declined) move(transfers[i].from, transfers[i].to, transfers[i].amount.units); });
    const posted = outcomes.filter((o) => !o.declined).length;

    // Replays return the original ids and post nothing.
    const replayed = await Promise.all(transfers.map((t, i) => (outcomes[i].declined ? null : post(t, i))));
    replayed.forEach((id, i) => { if (id !== null) assert.equal(id, outcomes[i].id); });
    assert.deepEqual(await Promise.all(deposits.map(post)), depositIds);

    for (const [id, units] of expected) {
      assert.deepEqual(await balance(pool, id), new Money(units, 'USD'), `account ${id}`);
    }
    const { rows: [sum] } = await pool.query(`
      SELECT sum(payments.balance(id)) FILTER (WHERE normal_balance = 'credit') AS wallets,
             sum(payments.balance(id)) FILTER (WHERE normal_balance = 'debit') AS bank,
             (SELECT count(*) FROM payments.transfers t WHERE t.ledger = $1)::int AS transfers
        FROM payments.accounts WHERE ledger = $1`, [ledger]);
    assert.deepEqual(sum.wallets, Money.of('8000.00', 'USD'));
    assert.deepEqual(sum.bank, Money.of('8000.00', 'USD'));
    assert.equal(sum.transfers, users + posted);
    const { rows: problems } = await pool.query('SELECT * FROM payments.verify_ledger()');
    assert.deepEqual(problems, []);
    t.diagnostic(`posted ${posted}, declined ${200 - posted}, retries ${JSON.stringify(retries)}`);
  });

  test('a connection lost before the commit: the retry with the same key posts once', async () => {
    const from = await account('lost-before-from', 'USD', { allowNegative: true });
    const to = await account('lost-before-to', 'USD');
    const amount = Money.of('12.34', 'USD');
    const holder = await pool.connect();
    await holder.query('BEGIN');
    await holder.query('SELECT 1 FROM payments.accounts WHERE ledger = $1 AND id = $2 FOR UPDATE',
      [ledger, from.toString()]);
    const pids = [];
    const failures = [];
    const call = withRetry(pool, async (client) => {
      pids.push((await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid);
      return postTransfer(client, { from, to, amount, idempotencyKey: key('lost-before'), metadata: { order: 1 } });
    }, { onRetry: (err) => failures.push(err) });
    await waitFor(pool, "SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock'",
      [await waitUntilPid(pids)]);
    await pool.query('SELECT pg_terminate_backend($1)', [pids[0]]);
    await holder.query('ROLLBACK');
    holder.release();
    const id = await call;
    assert.equal(failures.length, 1);
    assert.ok(isConnectionLoss(failures[0]), failures[0].message);
    assert.equal(pids.length, 2);
    assert.notEqual(pids[0], pids[1]);
    await assertPostedOnce(pool, ledger, key('lost-before'), id);
    assert.deepEqual(await balance(pool, to), amount);
  });

  test('a connection lost after the commit: the retry replays and posts nothing new', async () => {
    const from = await account('lost-after-from', 'USD', { allowNegative: true });
    const to = await account('lost-after-to', 'USD');
    const amount = Money.of('0.01', 'USD');
    const pids = [];
    const failures = [];
    const call = withRetry(pool, async (client, attempt) => {
      pids.push((await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid);
      if (attempt === 1) {
        // The transfer commits, then the session dies before the client has its answer.
        const lit = pg.escapeLiteral;
        await client.query(`BEGIN; SELECT payments.post_transfer(${from}, ${to}, ${lit(amount.toString())}::monetary,
          ${lit(key('lost-after'))}, '{"order": 2}'); COMMIT; SELECT pg_sleep(30)`);
        throw new Error('not reached');
      }
      return postTransfer(client, { from, to, amount, idempotencyKey: key('lost-after'), metadata: { order: 2 } });
    }, { onRetry: (err) => failures.push(err) });
    const pid = await waitUntilPid(pids);
    await waitFor(pool, "SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND wait_event = 'PgSleep'", [pid]);
    await pool.query('SELECT pg_terminate_backend($1)', [pid]);
    const id = await call;
    assert.equal(failures.length, 1);
    assert.ok(isConnectionLoss(failures[0]), failures[0].message);
    await assertPostedOnce(pool, ledger, key('lost-after'), id);
    assert.deepEqual(await balance(pool, to), amount);
  });

  test('40P01: a deadlock between two transactions of two calls is retried', async () => {
    const acc = [];
    for (const n of ['dl-p', 'dl-q', 'dl-r', 'dl-s']) acc.push(await account(n, 'USD', { allowNegative: true }));
    const [a, b, c, d] = acc;
    const both = barrier(2);
    const codes = [];
    const pair = (first, second, name) => withRetry(pool, async (client, attempt) => {
      if (superuser) await client.query("SET LOCAL deadlock_timeout = '50ms'");
      const x = await postTransfer(client, { ...first, idempotencyKey: key(`${name}-1`) });
      if (attempt === 1) await both();
      const y = await postTransfer(client, { ...second, idempotencyKey: key(`${name}-2`) });
      return [x, y];
    }, { isolation: 'READ COMMITTED', baseDelayMs: 5, onRetry: (err) => codes.push(err.code) });
    const one = Money.of('1.00', 'USD');
    const results = await Promise.all([
      pair({ from: a, to: b, amount: one }, { from: c, to: d, amount: one }, 'dl-t1'),
      pair({ from: c, to: d, amount: one }, { from: a, to: b, amount: one }, 'dl-t2'),
    ]);
    assert.deepEqual(codes, ['40P01']);
    assert.equal(new Set(results.flat()).size, 4);
    assert.deepEqual(await balance(pool, b), Money.of('2.00', 'USD'));
    assert.deepEqual(await balance(pool, d), Money.of('2.00', 'USD'));
  });

  test('40001 in REPEATABLE READ, also for a replay racing the original: retry the transaction', async () => {
    const a = await account('rr-a', 'USD', { allowNegative: true });
    const b = await account('rr-b', 'USD');
    const amount = Money.of('5.00', 'USD');
    const codes = [];
    let raced;
    const racing = new Promise((resolve) => { raced = resolve; });
    const snapshotTaken = barrier(2);
    // T1 takes its snapshot, then the same request under the same key commits elsewhere, then T1 posts it.
    const t1 = withRetry(pool, async (client, attempt) => {
      await client.query('SELECT 1');
      if (attempt === 1) { await snapshotTaken(); await racing; }
      return postTransfer(client, { from: a, to: b, amount, idempotencyKey: key('rr-race') });
    }, { isolation: 'REPEATABLE READ', baseDelayMs: 5, onRetry: (err) => codes.push(err.code) });
    await snapshotTaken();
    const original = await postTransfer(pool, { from: a, to: b, amount, idempotencyKey: key('rr-race') });
    raced();
    assert.equal(await t1, original);
    assert.deepEqual(codes, ['40001']);
    await assertPostedOnce(pool, ledger, key('rr-race'), original);

    // a different transfer touching an account changed since the snapshot
    codes.length = 0;
    let changed;
    const change = new Promise((resolve) => { changed = resolve; });
    const snapshot2 = barrier(2);
    const t2 = withRetry(pool, async (client, attempt) => {
      await client.query('SELECT 1');
      if (attempt === 1) { await snapshot2(); await change; }
      return postTransfer(client, { from: a, to: b, amount, idempotencyKey: key('rr-second') });
    }, { isolation: 'REPEATABLE READ', baseDelayMs: 5, onRetry: (err) => codes.push(err.code) });
    await snapshot2();
    await postTransfer(pool, { from: a, to: b, amount, idempotencyKey: key('rr-other') });
    changed();
    await t2;
    assert.deepEqual(codes, ['40001']);
    assert.deepEqual(await balance(pool, b), Money.of('15.00', 'USD'));
  });

  test('55P03 (lock_timeout) and 57014 (statement_timeout) are retried with backoff', async () => {
    const a = await account('lt-a', 'USD', { allowNegative: true });
    const b = await account('lt-b', 'USD');
    const holder = await pool.connect();
    await holder.query('BEGIN');
    await holder.query('SELECT 1 FROM payments.accounts WHERE ledger = $1 AND id = $2 FOR UPDATE', [ledger, a.toString()]);
    const codes = [];
    const id = await withRetry(pool, async (client, attempt) => {
      await client.query(attempt === 1 ? "SET LOCAL lock_timeout = '50ms'" : "SET LOCAL statement_timeout = '50ms'");
      return postTransfer(client, { from: a, to: b, amount: Money.of('1', 'USD'), idempotencyKey: key('lt') });
    }, {
      isolation: 'READ COMMITTED',
      baseDelayMs: 5,
      onRetry: async (err, attempt) => {
        codes.push(err.code);
        if (attempt === 2) { await holder.query('ROLLBACK'); holder.release(); }
      },
    });
    assert.deepEqual(codes, ['55P03', '57014']);
    await assertPostedOnce(pool, ledger, key('lt'), id);
  });

  test('business errors are not retried; the largest transfer is exact', async () => {
    const treasury = await account('eth-treasury', 'ETH/18', { normalBalance: 'debit', allowNegative: true });
    const wallet = await account('eth-wallet', new Currency('ETH', 18));
    const max = new Money(10n ** 19n, 'ETH', 18); // 10 ETH: the most one transfer moves
    await postTransfer(pool, { from: treasury, to: wallet, amount: max, idempotencyKey: key('eth-max') });
    assert.deepEqual(await balance(pool, wallet), max);
    assert.deepEqual(await balance(pool, treasury), max);
    let calls = 0;
    const attempt = (t) => withRetry(pool, async (client) => { calls++; return postTransfer(client, t); });
    const fails = async (t, code) => {
      calls = 0;
      await assert.rejects(attempt(t), (e) => e.code === code);
      assert.equal(calls, 1, code);
    };
    await fails({ from: treasury, to: wallet, amount: new Money(10n ** 19n + 1n, 'ETH', 18) }, '22003');
    await fails({ from: wallet, to: treasury, amount: Money.of('1', 'ETH/9') }, '22000');
    await fails({ from: wallet, to: treasury, amount: Money.of('1', 'ETH/18'), idempotencyKey: key('eth-max') }, '23I01');
    const poor = await account('eth-poor', 'ETH/18');
    await fails({ from: poor, to: wallet, amount: new Money(1n, 'ETH', 18) }, '23L01');
    assert.deepEqual(await balance(pool, wallet), max);
  });

  test('example.js runs', async () => {
    const { execFile } = require('node:child_process');
    const out = await new Promise((resolve, reject) => {
      execFile(process.execPath, [require.resolve('../example.js')], { timeout: 30000 },
        (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)));
    });
    assert.match(out, /replaying order-0: transfer \d+/);
    assert.match(out, /customers and shop hold 150\.00 USD, the bank paid out 150\.00 USD/);
  });

  test('payments.verify_ledger() returns no rows', async () => {
    const { rows } = await pool.query('SELECT * FROM payments.verify_ledger()');
    assert.deepEqual(rows, []);
  });
});

async function waitUntilPid(pids) {
  for (let i = 0; i < 500 && pids.length === 0; i++) await sleep(10);
  if (pids.length === 0) throw new Error('the call never started');
  return pids[0];
}

async function assertPostedOnce(pool, ledger, idempotencyKey, id) {
  const { rows } = await pool.query(
    'SELECT id::text FROM payments.transfers WHERE ledger = $1 AND idempotency_key = $2', [ledger, idempotencyKey]);
  assert.deepEqual(rows.map((r) => BigInt(r.id)), [id]);
}
