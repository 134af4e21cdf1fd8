-- make run: a short tour of what the extension does.
-- The database "payments" has payments on its search_path, so the operators
-- work unqualified.
\set SHOW_CONTEXT never

-- Exact money: 128-bit minor units with a currency.
SELECT '12.34 usd'::payments.monetary + '0.66 USD' AS "12.34 + 0.66";
SELECT 'JPY 1000'::payments.monetary AS yen, '1.5 BHD'::payments.monetary AS dinar,
       '0.000000000000000001 ETH/18'::payments.monetary AS wei;

-- Rounding is never implicit: the operators are exact, mul/div take a mode.
SELECT payments.mul('10.10 USD', 0.0725, 'half_even') AS "7.25% half_even",
       payments.mul('10.10 USD', 0.0725, 'up') AS "7.25% up";
SELECT payments.split('100.00 USD', 3) AS three_ways,
       payments.allocate('100.00 EUR', '{50, 30, 20}') AS by_ratio;

-- Currencies never mix silently: = is simply false, < refuses.
SELECT '1 USD'::payments.monetary = '1 EUR' AS "1 USD = 1 EUR";
SELECT payments.sum(x) AS total, payments.avg(x) AS mean
  FROM (VALUES ('1.00 USD'::payments.monetary), ('2.01 USD'), ('0.50 USD')) v(x);

-- A small ledger: a bank (where deposits come from), two users and a fee
-- account.  Users' wallets are credit-normal and may not go negative.
SELECT payments.create_account('bank', 'USD', normal_balance => 'debit',
                               allow_negative => true) AS bank,
       payments.create_account('alice', 'USD') AS alice,
       payments.create_account('bob', 'USD') AS bob,
       payments.create_account('fees', 'USD') AS fees
\gset
SELECT payments.post_transfer(:bank, :alice, '100.00 USD', 'deposit-1') AS deposit;
SELECT payments.post_transfer('alice', 'bob', '25.00 USD', 'pay-1',
                              '{"memo": "dinner"}') AS payment;
SELECT payments.post_transfer('alice', 'fees', '0.25 USD', 'fee-1') AS fee;
-- A network retry replays the key: the same transfer, nothing posted twice.
SELECT payments.post_transfer('alice', 'bob', '25.00 USD', 'pay-1',
                              '{"memo": "dinner"}') AS replayed_payment;

SELECT name, normal_balance, balance, available FROM payments.account_balances ORDER BY account_id;
SELECT * FROM payments.trial_balance;

-- No path can overdraw a wallet, and history cannot be edited.
\set ON_ERROR_STOP 0
SELECT payments.post_transfer('bob', 'alice', '1000.00 USD');
UPDATE payments.transfers SET amount = '1.00 USD';
\set ON_ERROR_STOP 1

-- Alice's statement, with running balances, and the audit (always empty).
SELECT transfer_id, side, amount, balance_after, metadata
  FROM payments.statement(:alice, '-infinity', 'infinity');
SELECT * FROM payments.verify_ledger();
