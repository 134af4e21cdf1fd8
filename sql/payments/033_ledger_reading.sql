-- Reading the ledger: balances now and as of a time, statements, the trial
-- balance, and the audit.  Every join carries the ledger, as every key does.

CREATE VIEW payments.account_balances AS
    SELECT a.id AS account_id, a.ledger, a.name, a.currency, a.normal_balance, a.status,
           CASE a.normal_balance
               WHEN 'debit' THEN a.debits_posted - a.credits_posted
               ELSE a.credits_posted - a.debits_posted
           END AS balance,
           CASE a.normal_balance
               WHEN 'debit' THEN a.debits_posted - a.credits_posted
                                 - a.credits_pending
               ELSE a.credits_posted - a.debits_posted
                    - a.debits_pending
           END AS available
      FROM payments.accounts a;
COMMENT ON VIEW payments.account_balances IS
    'every account with its posted and available balance';

CREATE FUNCTION payments.balance(account bigint, at timestamptz DEFAULT NULL)
    RETURNS monetary
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, payments, pg_temp
BEGIN ATOMIC
    SELECT CASE
        WHEN balance.at IS NULL THEN b.balance
        ELSE coalesce(
            (SELECT p.balance_after FROM payments.postings p
              WHERE p.ledger = b.ledger AND p.account_id = b.account_id
                AND p.created_at <= balance.at
              ORDER BY p.created_at DESC, p.id DESC LIMIT 1),
            monetary(0, b.currency))
        END
      FROM payments.account_balances b
     WHERE b.account_id = payments.account_checked(balance.account);
END;
COMMENT ON FUNCTION payments.balance(bigint, timestamptz) IS
    'the posted balance now, or as of a time (the running balance of the last leg at or before it)';

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
    -- account volumes against the sum of their legs
    WITH legs AS (
        SELECT p.ledger, p.account_id,
               sum(p.amount) FILTER (WHERE p.side = 'debit') AS debits,
               sum(p.amount) FILTER (WHERE p.side = 'credit') AS credits
          FROM payments.postings p GROUP BY p.ledger, p.account_id
    )
    SELECT 'account volumes differ from its postings', a.id, NULL::bigint,
           format('debits_posted %s, credits_posted %s; postings: debits %s, credits %s',
                  a.debits_posted, a.credits_posted, l.debits, l.credits)
      FROM payments.accounts a
      LEFT JOIN legs l ON l.ledger = a.ledger AND l.account_id = a.id
     WHERE a.debits_posted <> coalesce(l.debits, monetary(0, a.currency))
        OR a.credits_posted <> coalesce(l.credits, monetary(0, a.currency))
    UNION ALL
    -- running balances, leg by leg, in the order the legs were applied
    SELECT 'posting balance_after differs from the running balance', r.account_id,
           r.transfer_id, format('posting %s: balance_after %s, running %s',
                                 r.id, r.balance_after, r.running)
      FROM (SELECT p.id, p.account_id, p.transfer_id, p.balance_after,
                   sum(CASE WHEN p.side = a.normal_balance THEN p.amount
                            ELSE - p.amount END)
                       OVER (PARTITION BY p.ledger, p.account_id ORDER BY p.id) AS running
              FROM payments.postings p
              JOIN payments.accounts a ON a.ledger = p.ledger AND a.id = p.account_id) r
     WHERE r.balance_after <> r.running
    UNION ALL
    -- legs are applied in order: per account, later legs are not earlier in time
    SELECT 'posting applied before an earlier leg of its account', o.account_id, o.transfer_id,
           format('posting %s at %s follows posting %s at %s', o.id, o.created_at,
                  o.previous_id, o.previous_at)
      FROM (SELECT p.id, p.account_id, p.transfer_id, p.created_at,
                   lag(p.id) OVER w AS previous_id, lag(p.created_at) OVER w AS previous_at
              FROM payments.postings p
            WINDOW w AS (PARTITION BY p.ledger, p.account_id ORDER BY p.id)) o
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
      FROM (SELECT a.ledger, a.currency,   -- as numeric: a total may pass 38 digits
                   sum(amount(a.debits_posted)) AS debits,
                   sum(amount(a.credits_posted)) AS credits
              FROM payments.accounts a GROUP BY a.ledger, a.currency) c
     WHERE c.debits <> c.credits;
END;
COMMENT ON FUNCTION payments.verify_ledger() IS
    'recomputes every balance and every transfer''s legs from the postings; returns the rows that disagree (none, always)';

-- for analysts ------------------------------------------------------------

CREATE VIEW payments.trial_balance AS
    -- numeric totals: the sum over many accounts may pass monetary's 38 digits
    SELECT a.ledger, a.currency,
           sum(amount(a.debits_posted)) AS debits,
           sum(amount(a.credits_posted)) AS credits,
           sum(amount(a.debits_posted)) = sum(amount(a.credits_posted)) AS balanced
      FROM payments.accounts a
     GROUP BY a.ledger, a.currency;
COMMENT ON VIEW payments.trial_balance IS
    'per ledger and currency, total posted debits and credits (numeric, in the currency''s units): they are always equal';

CREATE FUNCTION payments.statement(account bigint, from_time timestamptz, to_time timestamptz)
    RETURNS TABLE (posting_id bigint, transfer_id bigint, created_at timestamptz,
                   side text, amount monetary, balance_after monetary,
                   counterparty bigint, metadata jsonb)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, payments, pg_temp
BEGIN ATOMIC
    SELECT p.id, p.transfer_id, p.created_at, p.side, p.amount, p.balance_after,
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
REVOKE ALL ON payments.account_balances, payments.trial_balance FROM PUBLIC;
