-- Reading the ledger: balances now and as of a time, statements, the trial
-- balance, and the audit.  Every join carries the ledger, as every key does.

-- An account's true volumes: its row's, plus its stripes' if it is hot (or
-- was).  Stripes are few (hot accounts times their stripes), and a look-up
-- of one account pushes its id into the grouping.
CREATE VIEW payments.account_volumes AS
    SELECT a.id AS account_id, a.ledger, a.name, a.currency, a.normal_balance, a.status,
           a.hot, a.stripes,
           CASE WHEN s.account_id IS NULL THEN a.debits_posted
                ELSE a.debits_posted + s.debits_posted END AS debits_posted,
           CASE WHEN s.account_id IS NULL THEN a.credits_posted
                ELSE a.credits_posted + s.credits_posted END AS credits_posted,
           CASE WHEN s.account_id IS NULL THEN a.debits_pending
                ELSE a.debits_pending + s.debits_pending END AS debits_pending,
           CASE WHEN s.account_id IS NULL THEN a.credits_pending
                ELSE a.credits_pending + s.credits_pending END AS credits_pending
      FROM payments.accounts a
      LEFT JOIN (SELECT st.ledger, st.account_id,
                        sum(st.debits_posted) AS debits_posted,
                        sum(st.credits_posted) AS credits_posted,
                        sum(st.debits_pending) AS debits_pending,
                        sum(st.credits_pending) AS credits_pending
                   FROM payments.account_stripes st
                  GROUP BY st.ledger, st.account_id) s
        ON s.ledger = a.ledger AND s.account_id = a.id
     -- a role bound to ledgers sees theirs (the views read as their owner)
     WHERE payments.ledger_visible(a.ledger);
COMMENT ON VIEW payments.account_volumes IS
    'every account with its true volumes: those of its row plus, for a hot account, those of its stripes';

CREATE VIEW payments.account_balances AS
    SELECT v.account_id, v.ledger, v.name, v.currency, v.normal_balance, v.status,
           CASE v.normal_balance
               WHEN 'debit' THEN v.debits_posted - v.credits_posted
               ELSE v.credits_posted - v.debits_posted
           END AS balance,
           CASE v.normal_balance
               WHEN 'debit' THEN v.debits_posted - v.credits_posted
                                 - v.credits_pending
               ELSE v.credits_posted - v.debits_posted
                    - v.debits_pending
           END AS available,
           v.hot
      FROM payments.account_volumes v;
COMMENT ON VIEW payments.account_balances IS
    'every account with its posted and available balance (a hot account''s stripes included)';

CREATE FUNCTION payments.balance(account bigint, at timestamptz DEFAULT NULL)
    RETURNS monetary
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, payments, pg_temp
BEGIN ATOMIC
    SELECT CASE
        WHEN balance.at IS NULL THEN b.balance
        WHEN a.stripes = 0 THEN coalesce(
            (SELECT p.balance_after FROM payments.postings p
              WHERE p.ledger = a.ledger AND p.account_id = a.id
                AND p.created_at <= balance.at
              ORDER BY p.created_at DESC, p.id DESC LIMIT 1),
            monetary(0, a.currency))
        -- with stripes: the running balance of its row as of then (of the
        -- legs before it had stripes, if none since), plus each stripe's
        ELSE coalesce(
            (SELECT p.balance_after FROM payments.postings p
              WHERE p.account_id = a.id AND p.stripe = 0 AND p.ledger = a.ledger
                AND p.created_at <= balance.at
              ORDER BY p.created_at DESC, p.id DESC LIMIT 1),
            -- (every leg before it had stripes is at or before striped_at:
            -- the scan starts there, not among the stripes' legs after it)
            (SELECT p.balance_after FROM payments.postings p
              WHERE p.ledger = a.ledger AND p.account_id = a.id AND p.stripe IS NULL
                AND p.created_at <= least(balance.at, a.striped_at)
              ORDER BY p.created_at DESC, p.id DESC LIMIT 1),
            monetary(0, a.currency))
          + coalesce(
            (SELECT sum(l.balance_after)
               FROM generate_series(1, a.stripes) k(stripe)
              CROSS JOIN LATERAL
                    (SELECT p.balance_after FROM payments.postings p
                      WHERE p.account_id = a.id AND p.stripe = k.stripe AND p.ledger = a.ledger
                        AND p.created_at <= balance.at
                      ORDER BY p.created_at DESC, p.id DESC LIMIT 1) l),
            monetary(0, a.currency))
        END
      FROM payments.account_balances b
      JOIN payments.accounts a ON a.ledger = b.ledger AND a.id = b.account_id
     WHERE b.account_id = payments.account_checked(balance.account);
END;
COMMENT ON FUNCTION payments.balance(bigint, timestamptz) IS
    'the posted balance now, or as of a time (the running balance of the last leg at or before it; of a hot account, the sum of its stripes'')';

CREATE FUNCTION payments.balance_by_name(ledger text, account text, at timestamptz DEFAULT NULL)
    RETURNS monetary
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, payments, pg_temp
BEGIN ATOMIC
    SELECT payments.balance(payments.account_id(balance_by_name.account, balance_by_name.ledger),
                            balance_by_name.at);
END;
COMMENT ON FUNCTION payments.balance_by_name(text, text, timestamptz) IS
    'balance() of the account named in a ledger';

CREATE FUNCTION payments.available_balance(account bigint)
    RETURNS monetary
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, payments, pg_temp
BEGIN ATOMIC
    SELECT b.available FROM payments.account_balances b
     WHERE b.account_id = payments.account_checked(available_balance.account);
END;
COMMENT ON FUNCTION payments.available_balance(bigint) IS
    'the posted balance minus pending outgoing amounts: what may still be spent';

CREATE FUNCTION payments.available_balance_by_name(ledger text, account text)
    RETURNS monetary
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, payments, pg_temp
BEGIN ATOMIC
    SELECT payments.available_balance(payments.account_id(available_balance_by_name.account,
                                                          available_balance_by_name.ledger));
END;
COMMENT ON FUNCTION payments.available_balance_by_name(text, text) IS
    'available_balance() of the account named in a ledger';

-- the audit -----------------------------------------------------------------

CREATE FUNCTION payments.verify_ledger()
    RETURNS TABLE (problem text, account_id bigint, transfer_id bigint, detail text)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, payments, pg_temp
BEGIN ATOMIC
    -- the volumes of each account row (stripe 0) and each stripe against the
    -- sum of their legs
    WITH legs AS (
        SELECT p.ledger, p.account_id, coalesce(p.stripe, 0) AS stripe,
               sum(p.amount) FILTER (WHERE p.side = 'debit') AS debits,
               sum(p.amount) FILTER (WHERE p.side = 'credit') AS credits
          FROM payments.postings p GROUP BY p.ledger, p.account_id, coalesce(p.stripe, 0)
    ), places AS (
        SELECT a.ledger, a.id AS account_id, 0 AS stripe, a.debits_posted, a.credits_posted
          FROM payments.accounts a
        UNION ALL
        SELECT s.ledger, s.account_id, s.stripe, s.debits_posted, s.credits_posted
          FROM payments.account_stripes s
    )
    SELECT CASE WHEN coalesce(pl.stripe, l.stripe) = 0
                THEN 'account volumes differ from its postings'
                ELSE 'stripe volumes differ from its postings' END,
           coalesce(pl.account_id, l.account_id), NULL::bigint,
           CASE WHEN coalesce(pl.stripe, l.stripe) = 0 THEN '' ELSE
               format('stripe %s: ', coalesce(pl.stripe, l.stripe)) END ||
           format('debits_posted %s, credits_posted %s; postings: debits %s, credits %s',
                  pl.debits_posted, pl.credits_posted, l.debits, l.credits)
      FROM places pl
      FULL JOIN legs l ON l.ledger = pl.ledger AND l.account_id = pl.account_id
                      AND l.stripe = pl.stripe
     WHERE pl.account_id IS NULL
        OR pl.debits_posted <> coalesce(l.debits, pl.debits_posted - pl.debits_posted)
        OR pl.credits_posted <> coalesce(l.credits, pl.credits_posted - pl.credits_posted)
    UNION ALL
    -- running balances, leg by leg, in the order the legs were applied to
    -- the account row or stripe
    SELECT 'posting balance_after differs from the running balance', r.account_id,
           r.transfer_id, format('posting %s: balance_after %s, running %s',
                                 r.id, r.balance_after, r.running)
      FROM (SELECT p.id, p.account_id, p.transfer_id, p.balance_after,
                   sum(CASE WHEN p.side = a.normal_balance THEN p.amount
                            ELSE - p.amount END)
                       OVER (PARTITION BY p.ledger, p.account_id, coalesce(p.stripe, 0)
                             ORDER BY p.id) AS running
              FROM payments.postings p
              JOIN payments.accounts a ON a.ledger = p.ledger AND a.id = p.account_id) r
     WHERE r.balance_after <> r.running
    UNION ALL
    -- legs are applied in order: per account row or stripe, later legs are
    -- not earlier in time
    SELECT 'posting applied before an earlier leg of its account', o.account_id, o.transfer_id,
           format('posting %s at %s follows posting %s at %s', o.id, o.created_at,
                  o.previous_id, o.previous_at)
      FROM (SELECT p.id, p.account_id, p.transfer_id, p.created_at,
                   lag(p.id) OVER w AS previous_id, lag(p.created_at) OVER w AS previous_at
              FROM payments.postings p
            WINDOW w AS (PARTITION BY p.ledger, p.account_id, coalesce(p.stripe, 0)
                         ORDER BY p.id)) o
     WHERE o.created_at < o.previous_at
    UNION ALL
    -- each transfer: one debit leg on from_account, one credit leg on
    -- to_account, each of the posted money it moves (its amount, or none:
    -- a hold, a void, an expiry) and the pending volume it moves (a hold's
    -- amount, less that of the hold a resolution resolves)
    SELECT 'transfer legs do not match the transfer', NULL, t.id,
           format('%s legs; debits %s, credits %s', count(p.id),
                  sum(p.amount) FILTER (WHERE p.side = 'debit'),
                  sum(p.amount) FILTER (WHERE p.side = 'credit'))
      FROM (SELECT t.ledger, t.id, t.from_account, t.to_account,
                   CASE WHEN t.status = 'posted' THEN t.amount
                        ELSE t.amount - t.amount END AS posted,
                   CASE WHEN t.status = 'pending' THEN t.amount
                        WHEN t.pending_id IS NOT NULL THEN
                            - (SELECT h.amount FROM payments.transfers h
                                WHERE h.ledger = t.ledger AND h.id = t.pending_id)
                   END AS pending
              FROM payments.transfers t) t
      LEFT JOIN payments.postings p ON p.ledger = t.ledger AND p.transfer_id = t.id
     GROUP BY t.ledger, t.id, t.from_account, t.to_account, t.posted, t.pending
    HAVING count(p.id) <> 2
        OR count(*) FILTER (WHERE p.side = 'debit' AND p.account_id = t.from_account
                              AND p.amount = t.posted
                              AND p.pending_change IS NOT DISTINCT FROM t.pending) <> 1
        OR count(*) FILTER (WHERE p.side = 'credit' AND p.account_id = t.to_account
                              AND p.amount = t.posted
                              AND p.pending_change IS NOT DISTINCT FROM t.pending) <> 1
    UNION ALL
    SELECT 'posting without a transfer', p.account_id, p.transfer_id, format('posting %s', p.id)
      FROM payments.postings p
     WHERE NOT EXISTS (SELECT FROM payments.transfers t
                        WHERE t.ledger = p.ledger AND t.id = p.transfer_id)
    UNION ALL
    -- pending volumes live on account rows: each row's against its legs'
    -- pending changes, and each stripe's at zero
    SELECT 'account pending volumes differ from its postings', a.id, NULL,
           format('debits_pending %s, credits_pending %s; postings: debits %s, credits %s',
                  a.debits_pending, a.credits_pending, l.debits, l.credits)
      FROM payments.accounts a
      LEFT JOIN (SELECT p.ledger, p.account_id,
                        sum(p.pending_change) FILTER (WHERE p.side = 'debit') AS debits,
                        sum(p.pending_change) FILTER (WHERE p.side = 'credit') AS credits
                   FROM payments.postings p WHERE p.pending_change IS NOT NULL
                  GROUP BY p.ledger, p.account_id) l
        ON l.ledger = a.ledger AND l.account_id = a.id
     WHERE a.debits_pending <> coalesce(l.debits, a.debits_pending - a.debits_pending)
        OR a.credits_pending <> coalesce(l.credits, a.credits_pending - a.credits_pending)
    UNION ALL
    SELECT 'stripe holds pending volumes', s.account_id, NULL,
           format('stripe %s: debits_pending %s, credits_pending %s', s.stripe,
                  s.debits_pending, s.credits_pending)
      FROM payments.account_stripes s
     WHERE amount(s.debits_pending) <> 0 OR amount(s.credits_pending) <> 0
    UNION ALL
    -- pending volumes are the open holds: per account and side, the holds
    -- without a resolution
    SELECT 'pending volumes differ from open holds', a.id, NULL,
           format('debits_pending %s, credits_pending %s; open holds: from it %s, to it %s',
                  a.debits_pending, a.credits_pending, h.debits, h.credits)
      FROM payments.accounts a
      LEFT JOIN (SELECT o.ledger, o.account_id, sum(o.amount) FILTER (WHERE o.debit) AS debits,
                        sum(o.amount) FILTER (WHERE NOT o.debit) AS credits
                   FROM (SELECT t.ledger, x.account_id, x.debit, t.amount
                           FROM payments.transfers t
                          CROSS JOIN LATERAL (VALUES (t.from_account, true),
                                                     (t.to_account, false)) x(account_id, debit)
                          WHERE t.status = 'pending'
                            AND NOT EXISTS (SELECT FROM payments.transfers r
                                             WHERE r.ledger = t.ledger AND r.pending_id = t.id)) o
                  GROUP BY o.ledger, o.account_id) h
        ON h.ledger = a.ledger AND h.account_id = a.id
     WHERE a.debits_pending <> coalesce(h.debits, a.debits_pending - a.debits_pending)
        OR a.credits_pending <> coalesce(h.credits, a.credits_pending - a.credits_pending)
    UNION ALL
    -- open_holds lists exactly the holds without a resolution
    SELECT 'open holds differ from unresolved holds', NULL, coalesce(o.id, t.id),
           CASE WHEN o.id IS NULL THEN 'an unresolved hold has no row in open_holds'
                ELSE 'open_holds has a row for a resolved hold, or for no hold' END
      FROM payments.open_holds o
      FULL JOIN (SELECT t.ledger, t.id, t.expires_at FROM payments.transfers t
                  WHERE t.status = 'pending'
                    AND NOT EXISTS (SELECT FROM payments.transfers r
                                     WHERE r.ledger = t.ledger AND r.pending_id = t.id)) t
        ON t.ledger = o.ledger AND t.id = o.id
     WHERE o.id IS NULL OR t.id IS NULL
        OR o.expires_at IS DISTINCT FROM t.expires_at
    UNION ALL
    -- each resolution agrees with its hold: its accounts, its amount, expiry
    SELECT 'resolution disagrees with its hold', NULL, r.id,
           format('%s of hold %s: %s from %s to %s at %s; hold: %s %s from %s to %s, expires %s',
                  r.status, r.pending_id, r.amount, r.from_account, r.to_account, r.created_at,
                  h.status, h.amount, h.from_account, h.to_account, h.expires_at)
      FROM payments.transfers r
      LEFT JOIN payments.transfers h ON h.ledger = r.ledger AND h.id = r.pending_id
     WHERE r.pending_id IS NOT NULL
       AND (h.id IS NULL OR h.status <> 'pending'
            OR h.from_account <> r.from_account OR h.to_account <> r.to_account
            OR (r.status = 'posted' AND r.amount > h.amount)
            OR (r.status <> 'posted' AND r.amount <> h.amount)
            OR (r.status = 'expired') <> coalesce(r.created_at >= h.expires_at, false))
    UNION ALL
    -- reversals: between the original's accounts, never more than it
    SELECT 'transfer reversed beyond its amount', NULL, t.id,
           format('amount %s, reversed %s', t.amount, sum(r.amount))
      FROM payments.transfers t
      JOIN payments.transfers r ON r.ledger = t.ledger AND r.reverses = t.id
     GROUP BY t.ledger, t.id, t.amount
    HAVING sum(r.amount) > t.amount
        OR bool_or(t.status <> 'posted' OR r.from_account <> t.to_account
                   OR r.to_account <> t.from_account)
    UNION ALL
    -- the running pending outgoing volume, leg by leg
    SELECT 'posting held_after differs from the running held amount', r.account_id,
           r.transfer_id, format('posting %s: held_after %s, running %s',
                                 r.id, r.held_after, r.running)
      FROM (SELECT p.id, p.account_id, p.transfer_id, p.held_after,
                   sum(CASE WHEN p.side <> a.normal_balance THEN p.pending_change
                            ELSE p.pending_change - p.pending_change END)
                       OVER (PARTITION BY p.ledger, p.account_id ORDER BY p.id) AS running
              FROM payments.postings p
              JOIN payments.accounts a ON a.ledger = p.ledger AND a.id = p.account_id
             WHERE p.pending_change IS NOT NULL) r
     WHERE r.held_after <> r.running
    UNION ALL
    -- FX entries: each rate reproduces its amounts (convert_at_rate(); for
    -- a refund at the original rate, on the running total refunded) ...
    SELECT 'FX entry amounts do not follow its rate', NULL, NULL,
           format('entry %s: %s at %s / %s (%s, %s) gives %s, recorded %s', f.entry_id, f.amount,
                  f.rate_numerator, f.rate_denominator, f.rounding, f.basis, f.expected,
                  f.converted)
      FROM (SELECT f.*,
                   CASE WHEN f.basis = 'original' THEN
                            payments.convert_at_rate(f.refunded_before + f.amount,
                                                     currency(f.converted), f.rate_numerator,
                                                     f.rate_denominator, f.rounding)
                            - payments.convert_at_rate(f.refunded_before, currency(f.converted),
                                                       f.rate_numerator, f.rate_denominator,
                                                       f.rounding)
                        ELSE payments.convert_at_rate(f.amount, currency(f.converted),
                                                      f.rate_numerator, f.rate_denominator,
                                                      f.rounding)
                   END AS expected
              FROM payments.fx_entries f) f
     WHERE f.expected <> f.converted
        OR amount(f.amount) <= 0
        OR (f.basis = 'original') <> (f.refunded_before IS NOT NULL)
        OR (f.basis = 'original' AND f.reverses_entry IS NULL)
    UNION ALL
    -- ... refunds at the original rate follow each other: each starts where
    -- the ones before it ended, and together they never pass the original
    SELECT 'FX refunds at the original rate do not add up', NULL, NULL,
           format('refund entry %s of entry %s: refunded_before %s, running %s, original %s',
                  r.entry_id, r.reverses_entry, r.refunded_before, r.running, o.amount)
      FROM (SELECT f.ledger, f.entry_id, f.reverses_entry, f.refunded_before, f.amount,
                   coalesce(sum(f.amount) OVER (PARTITION BY f.ledger, f.reverses_entry
                                                ORDER BY f.refunded_before
                                                ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING),
                            f.amount - f.amount) AS running
              FROM payments.fx_entries f WHERE f.basis = 'original') r
      LEFT JOIN payments.fx_entries o ON o.ledger = r.ledger AND o.entry_id = r.reverses_entry
     WHERE o.entry_id IS NULL OR r.refunded_before <> r.running
        OR r.refunded_before + r.amount > o.amount
    UNION ALL
    -- ... and its transfers are its two legs through the ledger's FX
    -- accounts: from_account pays into the FX account of what it pays,
    -- the FX account of what to_account gets pays it (a refund's leg of
    -- nothing, at the original rate, is left out)
    SELECT 'FX entry transfers do not match its record', NULL, NULL,
           format('entry %s: %s transfers, %s paying %s from account %s, %s receiving %s on account %s',
                  f.entry_id, c.n, c.paying, f.paid, f.from_account, c.receiving, f.received,
                  f.to_account)
      FROM (SELECT f.*,
                   CASE WHEN f.reverses_entry IS NULL THEN f.amount ELSE f.converted END AS paid,
                   CASE WHEN f.reverses_entry IS NULL THEN f.converted ELSE f.amount END AS received
              FROM payments.fx_entries f) f
     CROSS JOIN LATERAL (
            SELECT count(*) AS n,
                   count(*) FILTER (WHERE t.from_account = f.from_account
                                      AND t.to_account = (SELECT x.account_id FROM payments.fx_accounts x
                                                           WHERE x.ledger = f.ledger
                                                             AND x.currency = currency(f.paid))
                                      AND t.amount = f.paid) AS paying,
                   count(*) FILTER (WHERE t.to_account = f.to_account
                                      AND t.from_account = (SELECT x.account_id FROM payments.fx_accounts x
                                                             WHERE x.ledger = f.ledger
                                                               AND x.currency = currency(f.received))
                                      AND t.amount = f.received) AS receiving,
                   bool_and(t.status = 'posted') AS posted
              FROM payments.transfers t
             WHERE t.ledger = f.ledger AND t.entry_id = f.entry_id) c
     WHERE c.paying <> CASE WHEN amount(f.paid) > 0 THEN 1 ELSE 0 END
        OR c.receiving <> 1
        OR c.n <> c.paying + c.receiving
        OR NOT c.posted
    UNION ALL
    -- a leg of an FX entry goes back only with a refund of its entry
    SELECT 'FX leg reversed outside a refund of its entry', NULL, r.id,
           format('transfer %s reverses transfer %s of FX entry %s', r.id, t.id, t.entry_id)
      FROM payments.transfers r
      JOIN payments.transfers t ON t.ledger = r.ledger AND t.id = r.reverses
      JOIN payments.fx_entries f ON f.ledger = t.ledger AND f.entry_id = t.entry_id
     WHERE NOT EXISTS (SELECT FROM payments.fx_entries rf
                        WHERE rf.ledger = r.ledger AND rf.entry_id = r.entry_id
                          AND rf.reverses_entry = t.entry_id)
    UNION ALL
    -- FX entries balance in each currency
    SELECT 'FX entry does not balance in a currency', NULL, NULL,
           format('entry %s, %s: debits %s, credits %s', b.entry_id, b.currency, b.debits,
                  b.credits)
      FROM (SELECT f.entry_id, currency(p.amount) AS currency,
                   sum(amount(p.amount)) FILTER (WHERE p.side = 'debit') AS debits,
                   sum(amount(p.amount)) FILTER (WHERE p.side = 'credit') AS credits
              FROM payments.fx_entries f
              JOIN payments.transfers t ON t.ledger = f.ledger AND t.entry_id = f.entry_id
              JOIN payments.postings p ON p.ledger = t.ledger AND p.transfer_id = t.id
             GROUP BY f.entry_id, currency(p.amount)) b
     WHERE b.debits IS DISTINCT FROM b.credits
    UNION ALL
    -- an FX account is an account of its ledger in its currency
    SELECT 'FX account is not an account of its ledger and currency', x.account_id, NULL,
           format('%s %s: account %s', x.ledger, x.currency,
                  coalesce(a.ledger || ' ' || a.currency::text, 'missing'))
      FROM payments.fx_accounts x
      LEFT JOIN payments.accounts a ON a.ledger = x.ledger AND a.id = x.account_id
     WHERE a.id IS NULL OR a.currency <> x.currency
    UNION ALL
    -- the books balance: per ledger and currency, debits equal credits
    SELECT 'debits and credits differ', NULL, NULL,
           format('%s %s: debits %s, credits %s', c.ledger, c.currency, c.debits, c.credits)
      FROM (SELECT v.ledger, v.currency,   -- as numeric: a total may pass 38 digits
                   sum(amount(v.debits_posted)) AS debits,
                   sum(amount(v.credits_posted)) AS credits
              FROM payments.account_volumes v GROUP BY v.ledger, v.currency) c
     WHERE c.debits <> c.credits;
END;
COMMENT ON FUNCTION payments.verify_ledger() IS
    'recomputes every balance (of account rows and stripes) and every transfer''s legs from the postings, and every FX entry''s amounts from its rate; returns the rows that disagree (none, always)';

-- FX positions ----------------------------------------------------------------

CREATE VIEW payments.fx_positions AS
    SELECT x.ledger, x.currency, x.account_id, b.balance AS position, b.available
      FROM payments.fx_accounts x
      JOIN payments.account_balances b ON b.ledger = x.ledger AND b.account_id = x.account_id;
COMMENT ON VIEW payments.fx_positions IS
    'each ledger''s position in each currency it converts: what its FX account holds (negative: what it owes in that currency)';

CREATE FUNCTION payments.fx_revaluation(reporting_currency currency,
                                        at timestamptz DEFAULT now(),
                                        mode rounding_mode DEFAULT 'half_even')
    RETURNS TABLE (ledger text, currency currency, account_id bigint, "position" monetary,
                   value monetary)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, payments, pg_temp
BEGIN ATOMIC
    SELECT p.ledger, p.currency, p.account_id, p.balance,
           payments.convert(p.balance, fx_revaluation.reporting_currency, fx_revaluation.at,
                            fx_revaluation.mode)
      FROM (SELECT x.ledger, x.currency, x.account_id,
                   payments.balance(x.account_id, fx_revaluation.at) AS balance
              FROM payments.fx_accounts x
             WHERE payments.ledger_visible(x.ledger)) p
     ORDER BY p.ledger, p.currency;
END;
COMMENT ON FUNCTION payments.fx_revaluation(currency, timestamptz, rounding_mode) IS
    'each FX position as of a time and its value then in a reporting currency (payments.convert() at that time); summed per ledger, the FX book''s gain (or loss, negative) from rate moves and rounding since its positions were taken';

-- for analysts ------------------------------------------------------------

CREATE VIEW payments.trial_balance AS
    -- numeric totals: the sum over many accounts may pass monetary's 38 digits
    SELECT v.ledger, v.currency,
           sum(amount(v.debits_posted)) AS debits,
           sum(amount(v.credits_posted)) AS credits,
           sum(amount(v.debits_posted)) = sum(amount(v.credits_posted)) AS balanced
      FROM payments.account_volumes v
     GROUP BY v.ledger, v.currency;
COMMENT ON VIEW payments.trial_balance IS
    'per ledger and currency, total posted debits and credits (numeric, in the currency''s units): they are always equal';

CREATE FUNCTION payments.statement(account bigint, from_time timestamptz, to_time timestamptz)
    RETURNS TABLE (posting_id bigint, transfer_id bigint, created_at timestamptz, kind text,
                   side text, amount monetary, balance_after monetary,
                   pending_change monetary, available_after monetary,
                   counterparty bigint, refers_to bigint, metadata jsonb, posted_by text)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, payments, pg_temp
BEGIN ATOMIC
    -- the account's running balance: each leg's balance_after, or, for an
    -- account with stripes (whose legs carry their stripe's), the opening
    -- balance (computed once, and only then) plus the legs so far.  What it
    -- has on hold (its pending outgoing volume, on its row alone): the
    -- last held_after before the period, plus the pending changes on its
    -- outgoing side since.
    SELECT s.id, s.transfer_id, s.created_at, s.kind, s.side, s.amount, s.balance_after,
           s.pending_change,
           s.balance_after
             - (s.opening_held + coalesce(sum(CASE WHEN s.side <> s.normal_balance
                                                    THEN s.pending_change END)
                                              OVER (ORDER BY s.created_at, s.id),
                                          s.opening_held - s.opening_held)),
           s.counterparty, s.refers_to, s.metadata, s.posted_by
      FROM (SELECT p.id, p.transfer_id, p.created_at,
                   CASE WHEN t.status = 'pending' THEN 'hold'
                        WHEN t.status = 'voided' THEN 'void'
                        WHEN t.status = 'expired' THEN 'expiry'
                        WHEN t.pending_id IS NOT NULL THEN 'capture'
                        WHEN t.reverses IS NOT NULL THEN 'reversal'
                        ELSE 'transfer' END AS kind,
                   p.side, p.amount,
                   CASE WHEN a.stripes = 0 THEN p.balance_after
                        ELSE (SELECT payments.balance(statement.account,
                                                      statement.from_time - interval '1 microsecond'))
                             + sum(CASE WHEN p.side = a.normal_balance THEN p.amount
                                        ELSE - p.amount END)
                                   OVER (ORDER BY p.created_at, p.id)
                   END AS balance_after,
                   p.pending_change, a.normal_balance,
                   coalesce((SELECT h.held_after FROM payments.postings h
                              WHERE h.account_id = a.id AND h.pending_change IS NOT NULL
                                AND h.ledger = a.ledger
                                AND h.created_at < statement.from_time
                              ORDER BY h.created_at DESC, h.id DESC LIMIT 1),
                            monetary(0, a.currency)) AS opening_held,
                   CASE p.side WHEN 'debit' THEN t.to_account ELSE t.from_account END
                       AS counterparty,
                   coalesce(t.pending_id, t.reverses) AS refers_to,
                   t.metadata, t.posted_by
              FROM payments.postings p
              JOIN payments.accounts a ON a.ledger = p.ledger AND a.id = p.account_id
              JOIN payments.transfers t ON t.ledger = p.ledger AND t.id = p.transfer_id
             WHERE a.id = payments.account_checked(statement.account)
               AND p.created_at >= statement.from_time AND p.created_at < statement.to_time) s
     ORDER BY s.created_at, s.id;
END;
COMMENT ON FUNCTION payments.statement(bigint, timestamptz, timestamptz) IS
    'an account''s legs in [from_time, to_time), oldest first: what each is (transfer, hold, capture, void, expiry, reversal), the posted money it moves and the pending volume, and the running posted and available balances; the opening balance is balance(account, from_time - interval ''1 microsecond'')';

-- Holds and what became of them.  A hold past its expires_at reads expired
-- at once (by the statement's clock, as capture() and expire_holds() judge
-- it, not the transaction's), though the amount stays held until
-- expire_holds() releases it.
CREATE VIEW payments.holds AS
    SELECT h.ledger, h.id AS hold_id, h.from_account, h.to_account, h.amount, h.expires_at,
           h.created_at,
           CASE WHEN r.id IS NULL THEN
                    CASE WHEN h.expires_at <= statement_timestamp() THEN 'expired' ELSE 'pending' END
                WHEN r.status = 'posted' THEN 'captured'
                ELSE r.status END AS status,
           CASE WHEN r.status = 'posted' THEN r.amount END AS captured,
           CASE WHEN r.id IS NULL THEN h.amount ELSE h.amount - h.amount END AS held,
           r.id AS resolved_by, r.created_at AS resolved_at, h.metadata
      FROM payments.transfers h
      LEFT JOIN payments.transfers r ON r.ledger = h.ledger AND r.pending_id = h.id
     WHERE h.status = 'pending' AND payments.ledger_visible(h.ledger);
COMMENT ON VIEW payments.holds IS
    'every hold: pending, captured, voided or expired (past expires_at, swept or not), the amount captured, and the amount still held';

-- Reading functions are for the roles a DBA grants.
REVOKE ALL ON FUNCTION
    payments.balance(bigint, timestamptz),
    payments.balance_by_name(text, text, timestamptz),
    payments.available_balance(bigint),
    payments.available_balance_by_name(text, text),
    payments.verify_ledger(),
    payments.statement(bigint, timestamptz, timestamptz),
    payments.fx_revaluation(currency, timestamptz, rounding_mode)
    FROM PUBLIC;
REVOKE ALL ON payments.account_volumes, payments.account_balances, payments.trial_balance,
    payments.holds, payments.fx_positions FROM PUBLIC;
