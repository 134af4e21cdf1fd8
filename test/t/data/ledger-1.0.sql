-- Fills a ledger as release 1.0 wrote it, for the upgrade test: the data of
-- test/t/data/ledger-1.0.dump was made by running this file against
-- payments 1.0, then
--   pg_dump --data-only --table='payments.*' > ledger-1.0.dump
-- with its \restrict lines and version comments removed (psql before
-- 15.14 has no \restrict).
-- (kept so that the dump can be read and remade; the test loads the dump,
-- as a DBA's restore would, since later libraries refuse to run 1.0's SQL).
SELECT payments.set_rate('EUR', 'USD', 1.0834, '2024-01-01', 'ecb');
SELECT payments.set_rate('EUR', 'USD', 1.0912, '2024-02-01', 'ecb');
SELECT payments.set_rate('USD', 'JPY', 151.37, '2024-01-01', 'fed');
SELECT payments.set_rate('BHD', 'USD', 2.6596, '2024-01-01');

SELECT payments.create_account('bank', 'USD', 'debit', true);
SELECT payments.create_account('bank_eur', 'EUR', 'debit', true);
SELECT payments.create_account('bank_jpy', 'JPY', 'debit', true);
SELECT payments.create_account('bank_bhd', 'BHD', 'debit', true);
SELECT payments.create_account('meter', 'USD/4', 'debit', true);
SELECT payments.create_account('usage', 'USD/4');
SELECT payments.create_account('fees', 'USD', metadata => '{"kind": "revenue"}');
SELECT payments.create_account('user' || i, c, metadata => jsonb_build_object('n', i))
  FROM generate_series(1, 12) i,
       LATERAL (SELECT (ARRAY['USD', 'EUR', 'JPY', 'BHD'])[1 + i % 4]::currency AS c) cur;
SELECT payments.create_account('vault', 'ETH/18', 'debit', true, ledger => 'crypto');
SELECT payments.create_account('carol', 'ETH/18', ledger => 'crypto');
SELECT payments.create_account('dave', 'ETH/18', ledger => 'crypto');
SELECT payments.create_account('closed_one', 'USD');

-- deposits, some with keys
SELECT payments.post_transfer(
           CASE currency WHEN 'USD' THEN 'bank' WHEN 'EUR' THEN 'bank_eur'
                         WHEN 'JPY' THEN 'bank_jpy' ELSE 'bank_bhd' END,
           name,
           monetary(1000 + id, currency),
           CASE WHEN id % 2 = 0 THEN 'deposit-' || name END)
  FROM payments.accounts WHERE name LIKE 'user%' ORDER BY id;
-- payments between users of one currency, with keys and metadata
SELECT payments.post_transfer(a.name, b.name, monetary(round(7.5 + n, 0), a.currency),
                              'pay-' || a.name || '-' || b.name || '-' || n,
                              jsonb_build_object('order', n))
  FROM payments.accounts a
  JOIN payments.accounts b ON b.currency = a.currency AND b.id <> a.id AND b.name LIKE 'user%'
  CROSS JOIN generate_series(1, 3) n
 WHERE a.name LIKE 'user%'
 ORDER BY a.id, b.id, n;
-- fees
SELECT payments.post_transfer(name, 'fees', '0.25 USD', 'fee-' || name)
  FROM payments.accounts WHERE name LIKE 'user%' AND currency = 'USD';
-- a sub-cent meter
SELECT payments.post_transfer('meter', 'usage', '0.0042 USD/4');
SELECT payments.post_transfer('meter', 'usage', '12.3456 USD/4', 'meter-2');
-- crypto ledger, same key as the default ledger
SELECT payments.post_transfer('vault', 'carol', '1.000000000000000001 ETH/18', 'deposit-user2',
                              ledger => 'crypto');
SELECT payments.post_transfer('carol', 'dave', '0.25 ETH/18', ledger => 'crypto');
-- a direct INSERT, a frozen account, a closed one
INSERT INTO payments.transfers (from_account, to_account, amount, metadata)
SELECT (SELECT id FROM payments.accounts WHERE name = 'bank'),
       (SELECT id FROM payments.accounts WHERE name = 'closed_one'), '5.00 USD', '{"via": "insert"}';
SELECT payments.post_transfer('closed_one', 'bank', '5.00 USD', 'close-out');
SELECT payments.set_account_status('closed_one', 'closed');
SELECT payments.set_account_status('user4', 'frozen');
