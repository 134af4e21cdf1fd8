-- Monitoring: what an on-call engineer watches (DESIGN.md section 6).
--
-- Views over the ledger's own small tables (open_holds) and the audit's
-- runs, cheap enough to read every scrape; throughput comes from
-- PostgreSQL's own counters (pg_stat_user_tables), which Prometheus turns
-- into rates.  monitoring/postgres-exporter.yaml serves them to Debian's
-- prometheus-postgres-exporter.

-- The audit's runs: payments.run_audit() runs verify_ledger() and records
-- what it found, so that an alert can read the last result and its age.
CREATE TABLE payments.audit_runs (
    id              bigint GENERATED ALWAYS AS IDENTITY,
    started_at      timestamptz NOT NULL,
    finished_at     timestamptz NOT NULL,
    problems        bigint NOT NULL,
    first_problem   text,
    CONSTRAINT audit_runs_pkey PRIMARY KEY (id)
);
COMMENT ON TABLE payments.audit_runs IS
    'each run of payments.run_audit(): when, how long, and how many rows verify_ledger() returned (none, always)';
SELECT pg_catalog.pg_extension_config_dump('payments.audit_runs', '');
SELECT pg_catalog.pg_extension_config_dump('payments.audit_runs_id_seq', '');
REVOKE ALL ON payments.audit_runs FROM PUBLIC;

CREATE FUNCTION payments.run_audit()
    RETURNS bigint
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, payments, pg_temp
AS $$
DECLARE
    started timestamptz := clock_timestamp();
    found bigint;
    first text;
BEGIN
    SELECT count(*), min(v.problem) INTO found, first FROM payments.verify_ledger() v;
    INSERT INTO payments.audit_runs (started_at, finished_at, problems, first_problem)
    VALUES (started, clock_timestamp(), found, first);
    RETURN found;
END;
$$;
COMMENT ON FUNCTION payments.run_audit() IS
    'runs verify_ledger() and records the result in payments.audit_runs (for monitoring); returns how many rows disagree';
REVOKE ALL ON FUNCTION payments.run_audit() FROM PUBLIC;

-- Holds per ledger and currency: what is held, what expires within the
-- hour, what is past its expiry but not yet swept (the sweep's backlog),
-- and the age of the oldest.  From open_holds: only unresolved holds.
CREATE VIEW payments.monitor_holds AS
    SELECT o.ledger, currency(h.amount) AS currency,
           count(*) AS open_holds,
           sum(h.amount) AS held,
           count(*) FILTER (WHERE o.expires_at > statement_timestamp()
                              AND o.expires_at <= statement_timestamp() + interval '1 hour')
               AS expiring_within_hour,
           coalesce(sum(h.amount) FILTER (WHERE o.expires_at > statement_timestamp()
                                            AND o.expires_at <= statement_timestamp() + interval '1 hour'),
                    sum(h.amount) - sum(h.amount)) AS expiring_amount,
           count(*) FILTER (WHERE o.expires_at <= statement_timestamp()) AS sweep_backlog,
           coalesce(sum(h.amount) FILTER (WHERE o.expires_at <= statement_timestamp()),
                    sum(h.amount) - sum(h.amount)) AS sweep_backlog_amount,
           statement_timestamp() - min(h.created_at) AS oldest_age
      FROM payments.open_holds o
      JOIN payments.transfers h ON h.ledger = o.ledger AND h.id = o.id
     WHERE payments.ledger_visible(o.ledger)
     GROUP BY o.ledger, currency(h.amount);
COMMENT ON VIEW payments.monitor_holds IS
    'per ledger and currency: unresolved holds, the amount held, what expires within the hour, the sweep''s backlog (past expiry, not yet expired by expire_holds()) and the age of the oldest hold';

-- The last audit, and how long ago it finished.
CREATE VIEW payments.monitor_audit AS
    SELECT r.finished_at, r.problems, r.first_problem,
           r.finished_at - r.started_at AS duration,
           statement_timestamp() - r.finished_at AS age
      FROM payments.audit_runs r
     ORDER BY r.id DESC
     LIMIT 1;
COMMENT ON VIEW payments.monitor_audit IS
    'the last run of payments.run_audit(): its result, how long it took and how long ago it finished';

-- Rows written to the ledger's tables since the statistics were last reset:
-- counters, for rates.
CREATE VIEW payments.monitor_counters AS
    SELECT s.relname::text AS relation, s.n_tup_ins AS inserted
      FROM pg_catalog.pg_stat_user_tables s
     WHERE s.schemaname = 'payments'
       AND s.relname IN ('transfers', 'postings', 'entries', 'fx_entries');
COMMENT ON VIEW payments.monitor_counters IS
    'rows inserted into transfers, postings, entries and fx_entries since PostgreSQL''s statistics were reset (counters: alert on their rate)';

REVOKE ALL ON payments.monitor_holds, payments.monitor_audit, payments.monitor_counters FROM PUBLIC;

-- What became of the API's calls (src/outcomes.c): transfers committed, and
-- calls refused by SQLSTATE, counted in shared memory when the library is
-- in shared_preload_libraries ('payments'); without it, no rows.
CREATE FUNCTION payments.outcome_counts(
        OUT minute timestamptz, OUT outcome text, OUT sqlstate text, OUT count bigint,
        OUT since timestamptz)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'ledger_outcome_counts'
    LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION payments.outcome_counts() IS
    'transfers committed and calls of the API refused (by SQLSTATE), counted in shared memory since since: the totals (minute null), then per minute for the last hour; no rows unless payments is in shared_preload_libraries';
REVOKE ALL ON FUNCTION payments.outcome_counts() FROM PUBLIC;

-- Per minute, the last hour: an on-call engineer's first look.
CREATE VIEW payments.monitor_outcomes AS
    SELECT o.minute, o.outcome, o.sqlstate, o.count
      FROM payments.outcome_counts() o
     WHERE o.minute IS NOT NULL;
COMMENT ON VIEW payments.monitor_outcomes IS
    'per minute of the last hour: transfers committed, and calls of the API refused by SQLSTATE (needs payments in shared_preload_libraries; empty otherwise)';

-- Since counting began (the server's start): counters, for rates.
CREATE VIEW payments.monitor_outcome_totals AS
    SELECT o.outcome, o.sqlstate, o.count, o.since
      FROM payments.outcome_counts() o
     WHERE o.minute IS NULL;
COMMENT ON VIEW payments.monitor_outcome_totals IS
    'transfers committed and calls of the API refused by SQLSTATE since the server started (counters: alert on their rate; needs payments in shared_preload_libraries, empty otherwise)';
REVOKE ALL ON payments.monitor_outcomes, payments.monitor_outcome_totals FROM PUBLIC;

-- The daily reconciliation report (make report): the books as they stand,
-- one row a figure.  Amounts are numeric in each currency's units, so that
-- a sum over many accounts cannot overflow.
CREATE FUNCTION payments.reconciliation_report()
    RETURNS TABLE (section text, ledger text, currency text, item text,
                   amount numeric, count bigint, at timestamptz)
    LANGUAGE sql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, payments, pg_temp
BEGIN ATOMIC
    SELECT r.section, r.ledger, r.currency, r.item, r.amount, r.count, r.at
      FROM (
        -- every ledger and currency balances: debits = credits
        SELECT 1 AS ord, 'trial balance' AS section, t.ledger, t.currency::text AS currency,
               x.item, x.amount, NULL::bigint AS count, NULL::timestamptz AS at
          FROM payments.trial_balance t,
               LATERAL (VALUES (1, 'debits', t.debits), (2, 'credits', t.credits),
                               (3, 'debits - credits', t.debits - t.credits)) AS x(n, item, amount)
        UNION ALL
        -- what the ledger holds in each currency it converts
        SELECT 2, 'fx position', p.ledger, p.currency::text, 'position', amount(p."position"),
               NULL, NULL
          FROM payments.fx_positions p
        UNION ALL
        -- money held by holds not yet resolved
        SELECT 3, 'holds', h.ledger, h.currency::text, x.item, x.amount, x.count, NULL
          FROM payments.monitor_holds h,
               LATERAL (VALUES ('open', amount(h.held), h.open_holds),
                               ('expiring within the hour', amount(h.expiring_amount),
                                h.expiring_within_hour),
                               ('past expiry, not yet swept', amount(h.sweep_backlog_amount),
                                h.sweep_backlog)) AS x(item, amount, count)
        UNION ALL
        -- periods closed: as of these times, every figure is final
        SELECT 4, 'closed periods', c.ledger, NULL, 'closed until', NULL, count(*), max(c.until)
          FROM payments.closed_periods c
         GROUP BY c.ledger
        UNION ALL
        -- the last audit: rows verify_ledger() returned, and when
        SELECT 5, 'audit', NULL, NULL,
               CASE WHEN a.finished_at IS NULL THEN 'never run: SELECT payments.run_audit()'
                    ELSE 'verify_ledger() rows' END,
               NULL, a.problems, a.finished_at
          FROM (VALUES (1)) AS one(n) LEFT JOIN payments.monitor_audit a ON true
      ) r
     ORDER BY r.ord, r.ledger, r.currency, r.item;
END;
COMMENT ON FUNCTION payments.reconciliation_report() IS
    'the daily reconciliation report: trial balance per ledger and currency, FX positions, open holds, closed periods and the last audit, one row a figure (make report)';
REVOKE ALL ON FUNCTION payments.reconciliation_report() FROM PUBLIC;
