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
        ON s.ledger = a.ledger AND s.account_id = a.id;
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

CREATE FUNCTION payments.balance(account text, at timestamptz DEFAULT NULL,
                                 ledger text DEFAULT 'default')
    RETURNS monetary
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, payments, pg_temp
BEGIN ATOMIC
    SELECT payments.balance(payments.account_id(balance.account, balance.ledger), balance.at);
END;
COMMENT ON FUNCTION payments.balance(text, timestamptz, text) IS
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

CREATE FUNCTION payments.available_balance(account text, ledger text DEFAULT 'default')
    RETURNS monetary
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, payments, pg_temp
BEGIN ATOMIC
    SELECT payments.available_balance(payments.account_id(available_balance.account,
                                                                 available_balance.ledger));
END;
COMMENT ON FUNCTION payments.available_balance(text, text) IS
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
    -- each transfer: one debit of its amount from from_account, one credit to to_account
    SELECT 'transfer legs do not match the transfer', NULL, t.id,
           format('%s legs; debits %s, credits %s', count(p.id),
                  sum(p.amount) FILTER (WHERE p.side = 'debit'),
                  sum(p.amount) FILTER (WHERE p.side = 'credit'))
      FROM payments.transfers t
      LEFT JOIN payments.postings p ON p.ledger = t.ledger AND p.transfer_id = t.id
     WHERE t.status = 'posted'
     GROUP BY t.ledger, t.id, t.from_account, t.to_account, t.amount
    HAVING count(p.id) <> 2
        OR count(*) FILTER (WHERE p.side = 'debit' AND p.account_id = t.from_account
                              AND p.amount = t.amount) <> 1
        OR count(*) FILTER (WHERE p.side = 'credit' AND p.account_id = t.to_account
                              AND p.amount = t.amount) <> 1
    UNION ALL
    SELECT 'posting without a transfer', p.account_id, p.transfer_id, format('posting %s', p.id)
      FROM payments.postings p
     WHERE NOT EXISTS (SELECT FROM payments.transfers t
                        WHERE t.ledger = p.ledger AND t.id = p.transfer_id)
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
    'recomputes every balance (of account rows and stripes) and every transfer''s legs from the postings; returns the rows that disagree (none, always)';

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
    RETURNS TABLE (posting_id bigint, transfer_id bigint, created_at timestamptz,
                   side text, amount monetary, balance_after monetary,
                   counterparty bigint, metadata jsonb)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, payments, pg_temp
BEGIN ATOMIC
    -- the account's running balance: each leg's balance_after, or, for an
    -- account with stripes (whose legs carry their stripe's), the opening
    -- balance (computed once, and only then) plus the legs so far
    SELECT p.id, p.transfer_id, p.created_at, p.side, p.amount,
           CASE WHEN a.stripes = 0 THEN p.balance_after
                ELSE (SELECT payments.balance(statement.account,
                                              statement.from_time - interval '1 microsecond'))
                     + sum(CASE WHEN p.side = a.normal_balance THEN p.amount
                                ELSE - p.amount END)
                           OVER (ORDER BY p.created_at, p.id)
           END,
           CASE p.side WHEN 'debit' THEN t.to_account ELSE t.from_account END,
           t.metadata
      FROM payments.postings p
      JOIN payments.accounts a ON a.ledger = p.ledger AND a.id = p.account_id
      JOIN payments.transfers t ON t.ledger = p.ledger AND t.id = p.transfer_id
     WHERE a.id = payments.account_checked(statement.account)
       AND p.created_at >= statement.from_time AND p.created_at < statement.to_time
     ORDER BY p.created_at, p.id;
END;
COMMENT ON FUNCTION payments.statement(bigint, timestamptz, timestamptz) IS
    'an account''s legs in [from_time, to_time), oldest first, with running balances; the opening balance is balance(account, from_time - interval ''1 microsecond'')';

-- Reading functions are for the roles a DBA grants.
REVOKE ALL ON FUNCTION
    payments.balance(bigint, timestamptz),
    payments.balance(text, timestamptz, text),
    payments.available_balance(bigint),
    payments.available_balance(text, text),
    payments.verify_ledger(),
    payments.statement(bigint, timestamptz, timestamptz)
    FROM PUBLIC;
REVOKE ALL ON payments.account_volumes, payments.account_balances, payments.trial_balance
    FROM PUBLIC;
