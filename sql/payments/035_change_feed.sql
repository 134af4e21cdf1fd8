-- The change feed (DESIGN.md section 6): every committed transfer, once, in
-- an order consistent with commits, from a cursor the consumer stores.
--
-- A cursor says which transactions the consumer has seen, as a snapshot:
-- 'S' (pg_snapshot's text form) means every transfer of every transaction S
-- sees as done has been returned; 'L/H/xact/entry/transfer' means those of L,
-- and of the transactions H sees done and L did not, those up to (xact,
-- entry, transfer) in that order.  A call returns what the cursor has not
-- seen of the transactions its own snapshot sees done, in batches: first
-- the rest of H, then those done since H.  A transaction in progress in a
-- snapshot is not returned until a later one sees it done, so one that
-- commits late is returned late, never skipped; an aborted one has no rows.
-- Transactions returned in an earlier batch committed before any of a later
-- one; within a batch they come by transaction id, so that one which had
-- committed before another began comes first.  The reader's own
-- transaction counts as in progress: its rows come once it has committed.
--
-- The last row of a call that reached the end of the feed is a mark: all
-- columns but cursor null.  Its cursor moves the consumer past what it was
-- not shown (nothing, or transfers its privileges hide), so that the next
-- call starts there.

-- A cursor at the current snapshot: the feed returns from it the transfers
-- of the transactions that snapshot does not see as done.  To copy the
-- ledger as it is and then follow it, read both in one REPEATABLE READ
-- transaction; to follow from now on, start there.  The caller's own
-- transaction counts as in progress: it may yet roll back.
CREATE FUNCTION payments.change_cursor()
    RETURNS text
    LANGUAGE sql STABLE PARALLEL RESTRICTED
    SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT CASE WHEN own IS NULL OR own >= pg_snapshot_xmax(seen) THEN seen::text
                ELSE format('%s:%s:%s', least(pg_snapshot_xmin(seen), own), pg_snapshot_xmax(seen),
                            (SELECT string_agg(x::text, ',' ORDER BY x)
                               FROM (SELECT pg_snapshot_xip(seen) UNION SELECT own) AS u(x)))
           END
      FROM (SELECT pg_current_snapshot(), pg_current_xact_id_if_assigned()) AS now(seen, own);
END;
COMMENT ON FUNCTION payments.change_cursor() IS
    'a change feed cursor at the current snapshot, the caller''s own transaction counted as in progress: payments.changes_since() returns from it the transfers of the transactions this snapshot does not see as done';
REVOKE ALL ON FUNCTION payments.change_cursor() FROM PUBLIC;

CREATE FUNCTION payments.changes_since(cursor text, max_transfers integer DEFAULT 1000)
    RETURNS TABLE (next_cursor text, xact_id xid8, ledger text, entry_id bigint, id bigint,
                   idempotency_key text, from_account bigint, to_account bigint,
                   amount monetary, status text, pending_id bigint, reverses bigint,
                   expires_at timestamptz, metadata jsonb, created_at timestamptz)
    LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
    SET search_path = pg_catalog, payments, pg_temp
AS $$
DECLARE
    now_seen pg_snapshot := payments.change_cursor()::pg_snapshot;
    parts text[];
    low pg_snapshot;            -- L: what the consumer has seen all of
    high pg_snapshot;           -- H: the batch's snapshot
    at_xact xid8 := '0';        -- the last row returned of the batch
    at_entry bigint := 0;
    at_transfer bigint := 0;
    mid_batch boolean;
    wanted integer := max_transfers;
    returned bigint;
BEGIN
    IF max_transfers IS NULL OR max_transfers < 1 THEN
        RAISE EXCEPTION 'max_transfers must be at least 1, not %', coalesce(max_transfers::text, 'null')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;

    IF cursor IS NULL THEN
        low := '1:1:';          -- nothing seen: the whole feed
        mid_batch := false;
    ELSE
        parts := regexp_match(cursor,
            '^(\d+:\d+:(?:\d+(?:,\d+)*)?)(?:/(\d+:\d+:(?:\d+(?:,\d+)*)?)/(\d+)/(\d+)/(\d+))?$');
        -- what is not a cursor is refused in one place: the exception below
        BEGIN
            IF parts IS NULL THEN
                RAISE invalid_text_representation;
            END IF;
            low := parts[1]::pg_snapshot;
            mid_batch := parts[2] IS NOT NULL;
            IF mid_batch THEN
                high := parts[2]::pg_snapshot;
                at_xact := parts[3]::xid8;
                at_entry := parts[4]::bigint;
                at_transfer := parts[5]::bigint;
            END IF;
            -- a snapshot lists at most the transactions the server can run
            -- at once: a longer list is not one (and would make every read
            -- slow); a batch's snapshot is never older than what precedes it
            IF (SELECT count(*) FROM pg_snapshot_xip(low))
                   + coalesce((SELECT count(*) FROM pg_snapshot_xip(high)), 0)
                   > 2 * (current_setting('max_connections')::int
                          + current_setting('max_prepared_transactions')::int
                          + current_setting('max_worker_processes')::int
                          + current_setting('autovacuum_max_workers')::int
                          + current_setting('max_wal_senders')::int)
               OR (mid_batch AND pg_snapshot_xmax(low) > pg_snapshot_xmax(high)) THEN
                RAISE invalid_text_representation;
            END IF;
        EXCEPTION WHEN invalid_text_representation OR numeric_value_out_of_range THEN
            RAISE EXCEPTION 'invalid change feed cursor: "%"', left(cursor, 200)
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Pass NULL to read the feed from its start, payments.change_cursor() to read from now on, or a next_cursor that payments.changes_since() returned, as it was.';
        END;
        IF pg_snapshot_xmax(coalesce(high, low)) > pg_snapshot_xmax(now_seen) THEN
            RAISE EXCEPTION 'change feed cursor "%" is ahead of this database''s transactions', left(cursor, 200)
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = format('The cursor has seen transactions up to %s; this database has begun none past %s.',
                                      pg_snapshot_xmax(coalesce(high, low)), pg_snapshot_xmax(now_seen)),
                      HINT = 'A cursor belongs to the database it was read from. After a restore into a new cluster, start the feed anew from payments.change_cursor().';
        END IF;
    END IF;
    IF NOT mid_batch THEN
        high := now_seen;
    END IF;

    LOOP
        RETURN QUERY
            WITH batch AS (
                SELECT x.ledger, x.entry_id, x.xact_id
                  FROM payments.entry_xacts x
                 WHERE x.xact_id = ANY (ARRAY(SELECT pg_snapshot_xip(low)))
                   AND NOT x.xact_id = ANY (ARRAY(SELECT pg_snapshot_xip(high)))
                   AND x.xact_id < pg_snapshot_xmax(high)
                   AND (x.xact_id, x.entry_id) >= (at_xact, at_entry)
                UNION ALL
                SELECT x.ledger, x.entry_id, x.xact_id
                  FROM payments.entry_xacts x
                 WHERE x.xact_id >= pg_snapshot_xmax(low)
                   AND x.xact_id < pg_snapshot_xmax(high)
                   AND NOT x.xact_id = ANY (ARRAY(SELECT pg_snapshot_xip(high)))
                   AND (x.xact_id, x.entry_id) >= (at_xact, at_entry)
                 ORDER BY 3, 2
                 LIMIT wanted::bigint + 1
            )
            SELECT format('%s/%s/%s/%s/%s', low, high, b.xact_id, b.entry_id, t.id),
                   b.xact_id, t.ledger, t.entry_id, t.id, t.idempotency_key,
                   t.from_account, t.to_account, t.amount, t.status, t.pending_id,
                   t.reverses, t.expires_at, t.metadata, t.created_at
              FROM batch b
              JOIN payments.transfers t ON t.entry_id = b.entry_id AND t.ledger = b.ledger
             WHERE (b.xact_id, b.entry_id, t.id) > (at_xact, at_entry, at_transfer)
             ORDER BY b.xact_id, b.entry_id, t.id
             LIMIT wanted;
        GET DIAGNOSTICS returned = ROW_COUNT;
        wanted := wanted - returned;
        EXIT WHEN wanted = 0;
        -- the batch is done: every transaction high sees as done is seen
        low := high;
        EXIT WHEN NOT mid_batch;
        -- then those done since
        high := now_seen;
        mid_batch := false;
        at_xact := '0';
        at_entry := 0;
        at_transfer := 0;
    END LOOP;
    -- the mark: the feed has been read up to low
    IF wanted > 0 AND low::text IS DISTINCT FROM cursor THEN
        next_cursor := low::text;
        RETURN NEXT;
    END IF;
END;
$$;
COMMENT ON FUNCTION payments.changes_since(text, integer) IS
    'the change feed: up to max_transfers committed transfers that the cursor has not seen, in commit order of their transactions, each with the cursor to resume after it (NULL: from the start of the feed); a last row with only next_cursor marks the end of the feed';
REVOKE ALL ON FUNCTION payments.changes_since(text, integer) FROM PUBLIC;

