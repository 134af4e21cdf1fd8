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
