'use strict';
/*
 * Posts transfers concurrently, safely retried, and prints the balances.
 *
 *   PGHOST=... PGPORT=... PGUSER=... PGDATABASE=... node example.js
 *
 * The database needs `CREATE EXTENSION payments CASCADE`.  Each run uses a
 * ledger of its own, so it can be run again and again.
 */
const crypto = require('node:crypto');
const pg = require('pg');
// In your application: require('@payments/monetary-pg'), installed with `npm install --install-links path/to/clients/node`.
const { Money, register, withRetry, createAccount, postTransfer } = require('./index.js');

async function main() {
  const pool = new pg.Pool({ max: 8 });
  // A pooled client that is idle when its connection dies emits 'error' on the pool: handle it.
  pool.on('error', (err) => console.error('idle connection lost:', err.message));
  await register(pool); // monetary and currency results now come back as Money and Currency

  const ledger = `example_${crypto.randomBytes(4).toString('hex')}`;
  const bank = await createAccount(pool, { ledger, name: 'bank', currency: 'USD', normalBalance: 'debit', allowNegative: true });
  const alice = await createAccount(pool, { ledger, name: 'alice', currency: 'USD' });
  const bob = await createAccount(pool, { ledger, name: 'bob', currency: 'USD' });
  const shop = await createAccount(pool, { ledger, name: 'shop', currency: 'USD' });

  // One idempotency key per business operation, fixed before the first attempt: every retry of
  // the call sends the same key, accounts, amount and metadata, so it posts at most once.
  const post = (transfer) => withRetry(pool, (client) => postTransfer(client, transfer), {
    onRetry: (err, attempt, delayMs) =>
      console.log(`  retry ${attempt} of ${transfer.idempotencyKey} in ${delayMs} ms: ${err.code || err.message}`),
  });

  await Promise.all([
    post({ from: bank, to: alice, amount: Money.of('100.00', 'USD'), idempotencyKey: 'deposit-alice' }),
    post({ from: bank, to: bob, amount: Money.of('50.00', 'USD'), idempotencyKey: 'deposit-bob' }),
  ]);

  // 30 purchases at once, from two customers to one shop.
  const purchases = Array.from({ length: 30 }, (_, i) => ({
    from: i % 2 ? alice : bob,
    to: shop,
    amount: Money.of(`${3 + (i % 5)}.99`, 'USD'),
    idempotencyKey: `order-${i}`,
    metadata: { order: i },
  }));
  const results = await Promise.all(purchases.map((p) => post(p).then(
    (id) => `order ${p.metadata.order}: transfer ${id}`,
    (err) => {
      if (err.code === '23L01') return `order ${p.metadata.order}: declined, insufficient funds`; // not retried
      throw err;
    })));
  console.log(results.join('\n'));

  // A retry after the answer was lost returns the same transfer, and posts nothing.
  const again = await post(purchases[0]);
  console.log(`replaying order-0: transfer ${again}`);

  const { rows } = await pool.query(
    'SELECT name, payments.balance(id) AS balance FROM payments.accounts WHERE ledger = $1 ORDER BY id', [ledger]);
  for (const { name, balance } of rows) {
    // balance is a Money: exact BigInt minor units, never a float
    console.log(`${name.padEnd(6)} ${balance.toString().padStart(12)}  (${balance.units} minor units)`);
  }
  const customers = rows.filter((r) => r.name !== 'bank').reduce((sum, r) => sum.add(r.balance), Money.zero('USD'));
  console.log(`customers and shop hold ${customers}, the bank paid out ${rows[0].balance}`);
  await pool.end();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
