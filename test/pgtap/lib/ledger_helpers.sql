-- Helpers of the ledger's pgTAP files, created in pg_temp (gone with each
-- file's rollback); included with \ir lib/ledger_helpers.sql.

-- Everything a refusal must leave as it was: transfers (with their entries),
-- postings, entries, accounts with their volumes, and hot accounts' stripes.
CREATE FUNCTION pg_temp.ledger_state() RETURNS text LANGUAGE sql AS $$
    SELECT format('transfers: %s | postings: %s | entries: %s | accounts: %s',
        (SELECT coalesce(string_agg(format('%s %s %s %s %s->%s %s %s %s %s %s', id, ledger, entry_id,
                                           coalesce(idempotency_key, '-'), from_account,
                                           to_account, amount, status, pending_id, reverses,
                                           expires_at), ', ' ORDER BY id), '')
           FROM payments.transfers),
        (SELECT coalesce(string_agg(format('%s %s %s %s %s %s %s %s', id, transfer_id, account_id,
                                           side, amount, balance_after, pending_change, held_after),
                                    ', ' ORDER BY id), '')
           FROM payments.postings),
        (SELECT coalesce(string_agg(format('%s %s %s %s', ledger, id,
                                           coalesce(idempotency_key, '-'), metadata),
                                    ', ' ORDER BY ledger, id), '')
           FROM payments.entries),
        (SELECT coalesce(string_agg(format('%s %s %s %s %s %s %s/%s/%s/%s %s %s', id, ledger, name,
                                           status, allow_negative, metadata, debits_posted,
                                           credits_posted, debits_pending, credits_pending,
                                           hot, stripes),
                                    ', ' ORDER BY id), '')
           FROM payments.accounts))
        || (SELECT format(' | stripes: %s', coalesce(string_agg(format('%s %s %s/%s/%s/%s', account_id,
                                           stripe, debits_posted, credits_posted, debits_pending,
                                           credits_pending), ', ' ORDER BY account_id, stripe), ''))
              FROM payments.account_stripes)
        || (SELECT format(' | open holds: %s', coalesce(string_agg(format('%s %s %s', ledger, id,
                                           expires_at), ', ' ORDER BY ledger, id), ''))
              FROM payments.open_holds)
        || (SELECT format(' | fx entries: %s', coalesce(string_agg(f::text, ', '
                                                                   ORDER BY f.ledger, f.entry_id), ''))
              FROM payments.fx_entries f)
        || (SELECT format(' | fx accounts: %s', coalesce(string_agg(x::text, ', '
                                                                    ORDER BY x.ledger, x.account_id), ''))
              FROM payments.fx_accounts x)
        || (SELECT format(' | entry xacts: %s', coalesce(string_agg(format('%s %s', x.ledger, x.entry_id), ', '
                                                                    ORDER BY x.ledger, x.entry_id), ''))
              FROM payments.entry_xacts x)
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

-- A replay: what sql returns (an id, ids, ...), and that it wrote nothing (two tests).
CREATE FUNCTION pg_temp.replays(sql text, expected anycompatible, description text)
RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
    before text := pg_temp.ledger_state();
    got expected%TYPE;
BEGIN
    EXECUTE sql INTO got;
    RETURN NEXT is(got, expected, description);
    RETURN NEXT is(pg_temp.ledger_state(), before, description || ': writes nothing new');
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

-- {sqlstate, schema, table, column, constraint}: the diagnostic fields of the
-- error sql raises (DESIGN.md section 7: those PostgreSQL's own constraint
-- errors set).
CREATE FUNCTION pg_temp.error_fields_of(sql text) RETURNS text[] LANGUAGE plpgsql AS $$
DECLARE
    state text;
    schema_name text;
    table_name text;
    column_name text;
    constraint_name text;
BEGIN
    EXECUTE sql;
    RETURN ARRAY['00000', NULL, NULL, NULL, NULL];
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, schema_name = SCHEMA_NAME,
                            table_name = TABLE_NAME, column_name = COLUMN_NAME,
                            constraint_name = CONSTRAINT_NAME;
    RETURN ARRAY[state, nullif(schema_name, ''), nullif(table_name, ''),
                 nullif(column_name, ''), nullif(constraint_name, '')];
END
$$;

-- The id the next transfer will get (messages name the transfer they refuse):
-- the ledger draws ids from transfers_id_seq, one at a time.
CREATE FUNCTION pg_temp.next_transfer_id() RETURNS bigint LANGUAGE sql AS $$
    SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END
      FROM payments.transfers_id_seq
$$;

-- COPY table (columns) FROM PROGRAM printf: the rows as CSV lines.
CREATE FUNCTION pg_temp.copy_from(target text, csv_lines text[]) RETURNS text LANGUAGE sql AS $$
    SELECT format('COPY %s FROM PROGRAM %L WITH (FORMAT csv)', target,
                  format('printf ''%s\n''', array_to_string(csv_lines, '\n')))
$$;
