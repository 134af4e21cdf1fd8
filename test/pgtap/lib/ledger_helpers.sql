-- Helpers of the ledger's pgTAP files, created in pg_temp (gone with each
-- file's rollback); included with \ir lib/ledger_helpers.sql.

-- Everything a refusal must leave as it was.
CREATE FUNCTION pg_temp.ledger_state() RETURNS text LANGUAGE sql AS $$
    SELECT format('transfers: %s | postings: %s | accounts: %s',
        (SELECT coalesce(string_agg(format('%s %s %s %s->%s %s', id, ledger,
                                           coalesce(idempotency_key, '-'), from_account,
                                           to_account, amount), ', ' ORDER BY id), '')
           FROM payments.transfers),
        (SELECT coalesce(string_agg(format('%s %s %s %s %s', id, transfer_id, account_id,
                                           side, balance_after), ', ' ORDER BY id), '')
           FROM payments.postings),
        (SELECT coalesce(string_agg(format('%s %s %s %s %s %s %s/%s/%s/%s', id, ledger, name,
                                           status, allow_negative, metadata, debits_posted,
                                           credits_posted, debits_pending, credits_pending),
                                    ', ' ORDER BY id), '')
           FROM payments.accounts))
$$;

-- throws_ok(), then a check that the ledger is as it was before: two tests.
CREATE FUNCTION pg_temp.refuses(sql text, errcode text, errmsg text, description text)
RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
    before text := pg_temp.ledger_state();
BEGIN
    RETURN NEXT throws_ok(sql, errcode, errmsg, description);
    RETURN NEXT is(pg_temp.ledger_state(), before, description || ': leaves nothing behind');
END
$$;

-- {sqlstate, message, detail, hint} of the error sql raises.
CREATE FUNCTION pg_temp.error_of(sql text) RETURNS text[] LANGUAGE plpgsql AS $$
DECLARE
    state text;
    msg text;
    detail text;
    hint text;
BEGIN
    EXECUTE sql;
    RETURN ARRAY['00000', NULL, NULL, NULL];
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
                            detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
    RETURN ARRAY[state, msg, nullif(detail, ''), nullif(hint, '')];
END
$$;
