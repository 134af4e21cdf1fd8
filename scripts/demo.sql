-- make run: a short tour of what the extensions do.
-- The money types, operators and aggregates (extension monetary) are in
-- schema public, so they work unqualified for every role; the ledger
-- (extension payments) is in schema payments.
\set SHOW_CONTEXT never

-- Exact money: 128-bit minor units with a currency.
SELECT '12.34 usd'::monetary + '0.66 USD' AS "12.34 + 0.66";
SELECT 'JPY 1000'::monetary AS yen, '1.5 BHD'::monetary AS dinar,
       '0.000000000000000001 ETH/18'::monetary AS wei;

-- Rounding is never implicit: the operators are exact, mul/div take a mode.
SELECT mul('10.10 USD', 0.0725, 'half_even') AS "7.25% half_even",
       mul('10.10 USD', 0.0725, 'up') AS "7.25% up";
SELECT split('100.00 USD', 3) AS three_ways,
       allocate('100.00 EUR', '{50, 30, 20}') AS by_ratio;

-- Currencies never mix silently: = is simply false, < refuses.
SELECT '1 USD'::monetary = '1 EUR' AS "1 USD = 1 EUR";
SELECT sum(x) AS total, avg(x) AS mean, scale(currency(x)) AS decimals
  FROM (VALUES ('1.00 USD'::monetary), ('2.01 USD'), ('0.50 USD')) v(x)
 GROUP BY currency(x);

-- A small ledger: a bank (where deposits come from), two users and a fee
-- account.  Users' wallets are credit-normal and may not go negative.
SELECT payments.create_account('bank', 'USD', normal_balance => 'debit',
                               allow_negative => true) AS bank,
       payments.create_account('alice', 'USD') AS alice,
       payments.create_account('bob', 'USD') AS bob,
       payments.create_account('fees', 'USD') AS fees
\gset
SELECT payments.post_transfer(:bank, :alice, '100.00 USD', 'deposit-1') AS deposit;
SELECT payments.post_transfer_by_name('default', 'alice', 'bob', '25.00 USD', 'pay-1', '{"memo": "dinner"}') AS payment;
SELECT payments.post_transfer_by_name('default', 'alice', 'fees', '0.25 USD', 'fee-1') AS fee;
-- A charge split between bob and the fee account is one entry: both
-- transfers or neither, ids in request order, and its key replays.
SELECT payments.post_transfers(ARRAY[
           ROW(:alice, :bob, '9.70 USD', NULL, NULL),
           ROW(:alice, :fees, '0.30 USD', NULL, NULL)]::payments.transfer_request[],
       idempotency_key => 'charge-1', metadata => '{"order": 7}') AS charge;
SELECT id, entry_id, from_account, to_account, amount FROM payments.transfers ORDER BY id;
-- A network retry replays the key: the same transfer, nothing posted twice.
SELECT payments.post_transfer_by_name('default', 'alice', 'bob', '25.00 USD', 'pay-1', '{"memo": "dinner"}') AS replayed_payment;

SELECT name, normal_balance, balance, available FROM payments.account_balances ORDER BY account_id;
SELECT * FROM payments.trial_balance;
-- Analysts sum amounts directly: the aggregates need no search_path.
SELECT currency(amount), sum(amount), count(*) FROM payments.transfers GROUP BY 1;

-- No path can overdraw a wallet, and history cannot be edited.
\set ON_ERROR_STOP 0
SELECT payments.post_transfer_by_name('default', 'bob', 'alice', '1000.00 USD');
-- an entry whose second transfer would overdraw posts neither
SELECT payments.post_transfers(ARRAY[
           ROW(:bob, :alice, '1.00 USD', NULL, NULL),
           ROW(:bob, :fees, '1000.00 USD', NULL, NULL)]::payments.transfer_request[]);
UPDATE payments.transfers SET amount = '1.00 USD';
\set ON_ERROR_STOP 1

-- The fee account is credited by most transfers: made hot, its credits
-- take stripes and no longer wait for each other; a payout from it locks
-- every stripe and is checked against the true total.
SELECT payments.set_hot(:fees);
SELECT payments.post_transfer(:alice, :fees, '0.45 USD') AS hot_fee;
SELECT payments.post_transfer(:fees, :bank, '1.00 USD') AS payout;
SELECT name, hot, stripes, credits_posted, debits_posted
  FROM payments.account_volumes WHERE name = 'fees';
SELECT transfer_id, side, amount, balance_after
  FROM payments.statement(:fees, '-infinity', 'infinity');

-- A card payment: authorize (the money is held: Alice's available balance
-- drops, her balance does not), capture part of it (the rest is released),
-- then refund part of the capture.  A second hold is voided; a third
-- expires, and the sweep (which pg_cron runs on a schedule) releases it.
SELECT payments.hold(:alice, :bob, '20.00 USD', now() + interval '7 days', 'auth-1') AS hold \gset
SELECT payments.balance(:alice), payments.available_balance(:alice);
SELECT payments.capture(:hold, '15.00 USD', 'capture-1') AS capture \gset
SELECT payments.reverse_transfer(:capture, '5.00 USD', 'refund-1') AS refund;
SELECT payments.release(payments.hold(:alice, :bob, '3.00 USD')) AS void;
SELECT payments.hold(:alice, :bob, '2.00 USD', clock_timestamp() + interval '10 milliseconds') AS expiring;
SELECT pg_sleep(0.02);
SELECT payments.expire_holds() AS expired;
SELECT hold_id, amount, status, captured, held FROM payments.holds ORDER BY hold_id;
\set ON_ERROR_STOP 0
SELECT payments.capture(:hold);
SELECT payments.reverse_transfer(:capture, '10.01 USD');
\set ON_ERROR_STOP 1

-- A payment between currencies: a customer in EUR pays Bob's USD shop.
-- One entry through the ledger's FX accounts, at the stored rate, which
-- is recorded with it; then a refund in part, at the original rate.
SELECT payments.set_rate('EUR', 'USD', 1.0842, '2026-01-01', 'ECB') WHERE NOT EXISTS
       (SELECT FROM payments.exchange_rates WHERE from_currency = 'EUR' AND to_currency = 'USD'
           AND valid_from = '2026-01-01');
SELECT payments.create_fx_account('EUR') AS fx_eur, payments.create_fx_account('USD') AS fx_usd;
SELECT payments.create_account('carla-eur', 'EUR', allow_negative => true) AS carla \gset
SELECT payments.post_fx_transfer(:carla, :bob, '50.00 EUR', 'USD', idempotency_key => 'fx-order-1') AS fx \gset
SELECT amount, converted, rate_numerator, rate_denominator, rounding, basis, rates
  FROM payments.fx_entries WHERE entry_id = :fx;
SELECT payments.reverse_fx_transfer(:fx, '20.00 EUR') AS fx_refund;
SELECT ledger, currency, position FROM payments.fx_positions;

-- Alice's statement: what each leg is, running balances, posted and
-- available; and the audit (always empty).
SELECT transfer_id, kind, side, amount, balance_after, pending_change, available_after, refers_to
  FROM payments.statement(:alice, '-infinity', 'infinity');
SELECT * FROM payments.verify_ledger();

-- Operations.  The change feed: every committed transfer, once, in commit
-- order, each with the cursor to resume after it (a consumer stores the
-- last one); the first ten from the start of the feed.
SELECT next_cursor IS NOT NULL AS has_cursor, id, ledger, from_account, to_account, amount, status
  FROM payments.changes_since(NULL, 10);
-- What became of the API's calls since the server started (the cluster
-- preloads the library): transfers committed, calls refused by SQLSTATE;
-- payments.monitor_outcomes has them per minute.
SELECT outcome, sqlstate, count FROM payments.monitor_outcome_totals;
-- The daily reconciliation report (make report), after an audit.
SELECT payments.run_audit() AS audit_problems;
SELECT * FROM payments.reconciliation_report();
