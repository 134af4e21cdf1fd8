-- Monitoring (DESIGN.md section 6): the views an on-call engineer reads
-- and the exporter serves (test/monitoring/exporter.sh starts it): holds
-- per ledger and currency, the sweep's backlog, the last audit; the daily
-- reconciliation report.  Outcomes (committed, refused by SQLSTATE) are
-- counted by a preloaded library: test/t/090_outcomes.pl.
BEGIN;
SET search_path = public, payments;
SELECT plan(12);

SELECT payments.create_account('bank', 'EUR', 'debit', true, ledger => 'monitor-tap') AS bank \gset
SELECT payments.create_account('alice', 'EUR', ledger => 'monitor-tap') AS alice \gset
SELECT payments.create_account('bob', 'JPY', allow_negative => true, ledger => 'monitor-tap') AS bob \gset
SELECT payments.create_account('shop', 'JPY', ledger => 'monitor-tap') AS shop \gset
SELECT payments.post_transfer(:bank, :alice, '100.00 EUR');

SELECT is_empty($$SELECT * FROM payments.monitor_holds WHERE ledger = 'monitor-tap'$$,
                'no open hold, no row');

-- holds made "earlier": their expiry is judged by the statement's clock
SELECT payments.hold(:alice, :bank, '10.00 EUR', statement_timestamp() + interval '30 minutes') AS h1 \gset
SELECT payments.hold(:alice, :bank, '5.00 EUR', statement_timestamp() + interval '3 hours') AS h2 \gset
SELECT payments.hold(:alice, :bank, '1.50 EUR', clock_timestamp() + interval '1 millisecond') AS h3 \gset
SELECT payments.hold(:bob, :shop, '700 JPY') AS h4 \gset
SELECT pg_sleep(0.01);

SELECT results_eq(
    $$SELECT currency::text, open_holds, held::text, expiring_within_hour, expiring_amount::text,
             sweep_backlog, sweep_backlog_amount::text
        FROM payments.monitor_holds WHERE ledger = 'monitor-tap' ORDER BY currency::text$$,
    $$VALUES ('EUR', 3::bigint, '16.50 EUR', 1::bigint, '10.00 EUR', 1::bigint, '1.50 EUR'),
             ('JPY', 1::bigint, '700 JPY', 0::bigint, '0 JPY', 0::bigint, '0 JPY')$$,
    'per ledger and currency: open holds, held, expiring within the hour, the sweep''s backlog');
SELECT ok((SELECT oldest_age >= interval '0' AND oldest_age < interval '1 minute'
             FROM payments.monitor_holds WHERE ledger = 'monitor-tap' AND currency = 'EUR'),
          'the age of the oldest hold');

SELECT payments.capture(:h1);
SELECT payments.expire_holds();
SELECT results_eq(
    $$SELECT currency::text, open_holds, held::text, sweep_backlog
        FROM payments.monitor_holds WHERE ledger = 'monitor-tap' ORDER BY currency::text$$,
    $$VALUES ('EUR', 1::bigint, '5.00 EUR', 0::bigint), ('JPY', 1::bigint, '700 JPY', 0::bigint)$$,
    'a capture and the sweep take holds out; the backlog is gone');

-- the audit
SELECT is(payments.run_audit(), 0::bigint, 'run_audit() returns what verify_ledger() found');
SELECT results_eq($$SELECT problems, first_problem, age < interval '1 minute' FROM payments.monitor_audit$$,
                  $$VALUES (0::bigint, NULL::text, true)$$,
                  'monitor_audit: the last run, its result and its age');
SELECT ok((SELECT duration >= interval '0' FROM payments.monitor_audit), 'and how long it took');

SELECT is((SELECT array_agg(relation ORDER BY relation) FROM payments.monitor_counters),
          ARRAY['entries', 'fx_entries', 'postings', 'transfers'], 'counters of the ledger''s rows');

-- the daily reconciliation report: the same figures, one row each
SELECT results_eq(
    $$SELECT section, currency, item, amount, count FROM payments.reconciliation_report()
       WHERE ledger = 'monitor-tap' ORDER BY section, currency, item$$,
    $$VALUES ('holds', 'EUR', 'expiring within the hour', 0.00, 0::bigint),
             ('holds', 'EUR', 'open', 5.00, 1::bigint),
             ('holds', 'EUR', 'past expiry, not yet swept', 0.00, 0::bigint),
             ('holds', 'JPY', 'expiring within the hour', 0::numeric, 0::bigint),
             ('holds', 'JPY', 'open', 700, 1::bigint),
             ('holds', 'JPY', 'past expiry, not yet swept', 0, 0::bigint),
             ('trial balance', 'EUR', 'credits', 110.00, NULL),
             ('trial balance', 'EUR', 'debits', 110.00, NULL),
             ('trial balance', 'EUR', 'debits - credits', 0.00, NULL),
             ('trial balance', 'JPY', 'credits', 0, NULL),
             ('trial balance', 'JPY', 'debits', 0, NULL),
             ('trial balance', 'JPY', 'debits - credits', 0, NULL)$$,
    'the report: trial balance per ledger and currency, and open holds');
SET LOCAL session_replication_role = replica;
INSERT INTO payments.closed_periods VALUES ('monitor-tap', '2026-01-31', now(), 'tap'),
                                           ('monitor-tap', '2026-02-28', now(), 'tap');
SET LOCAL session_replication_role = origin;
SELECT results_eq(
    $$SELECT section, item, count, at FROM payments.reconciliation_report()
       WHERE section IN ('closed periods', 'audit') AND coalesce(ledger, 'monitor-tap') = 'monitor-tap'$$,
    $$VALUES ('closed periods', 'closed until', 2::bigint, '2026-02-28'::timestamptz),
             ('audit', 'verify_ledger() rows', 0::bigint,
              (SELECT finished_at FROM payments.monitor_audit))$$,
    'its closed periods and the last audit');
SELECT payments.create_fx_account('EUR', 'monitor-tap');
SELECT is((SELECT amount FROM payments.reconciliation_report()
            WHERE section = 'fx position' AND ledger = 'monitor-tap' AND currency = 'EUR'),
          0.00, 'and its FX positions');

SELECT ok(NOT has_table_privilege('public', 'payments.monitor_holds', 'SELECT')
          AND NOT has_table_privilege('public', 'payments.audit_runs', 'SELECT')
          AND NOT has_function_privilege('public', 'payments.run_audit()', 'EXECUTE')
          AND NOT has_table_privilege('public', 'payments.monitor_outcomes', 'SELECT')
          AND NOT has_table_privilege('public', 'payments.monitor_outcome_totals', 'SELECT')
          AND NOT has_function_privilege('public', 'payments.outcome_counts()', 'EXECUTE'),
          'monitoring is granted by the DBA, not to PUBLIC');

SELECT * FROM finish();
ROLLBACK;
