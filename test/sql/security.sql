--
-- The ledger's and conversion's own functions against a hostile search_path
-- (in the spirit of contrib's security.sql).  A role that may create objects
-- fills a schema with look-alikes of what the extensions use: the money
-- operators and functions, pg_catalog's operators on text and bigint, the
-- ledger's tables, now() and nextval().  Every look-alike raises.  Then a
-- superuser, and the hostile role itself, run every entry point with that
-- schema first on the path, even before pg_catalog: the results are those
-- of a clean path, and no look-alike ever runs.
--
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
\set SHOW_CONTEXT never

CREATE ROLE regress_hostile;
SELECT current_database() AS datname \gset
GRANT CREATE ON DATABASE :"datname" TO regress_hostile;
GRANT USAGE ON SCHEMA payments TO regress_hostile;
GRANT EXECUTE ON FUNCTION
    payments.create_account(text, currency, text, boolean, jsonb, text),
    payments.post_transfer(bigint, bigint, monetary, text, jsonb),
    payments.post_transfer_by_name(text, text, text, monetary, text, jsonb),
    payments.balance(bigint, timestamptz), payments.balance_by_name(text, text, timestamptz),
    payments.available_balance(bigint), payments.available_balance_by_name(text, text),
    payments.post_transfers(payments.transfer_request[], text, jsonb),
    payments.account_id(text, text), payments.statement(bigint, timestamptz, timestamptz),
    payments.hold(bigint, bigint, monetary, timestamptz, text, jsonb),
    payments.capture(bigint, monetary, text), payments.release(bigint, text),
    payments.reverse_transfer(bigint, monetary, text, jsonb)
    TO regress_hostile;
GRANT SELECT ON payments.exchange_rates TO regress_hostile;

SET ROLE regress_hostile;
CREATE SCHEMA hostile;
CREATE FUNCTION hostile.trap() RETURNS trigger LANGUAGE plpgsql
    AS $$ BEGIN RAISE EXCEPTION 'hostile trigger ran as %', current_user; END $$;
CREATE FUNCTION hostile.called(what text) RETURNS boolean LANGUAGE plpgsql
    AS $$ BEGIN RAISE EXCEPTION 'hostile % ran as %', what, current_user; END $$;
-- the money operators and functions
CREATE FUNCTION hostile.m_plus(monetary, monetary) RETURNS monetary LANGUAGE sql
    AS $$ SELECT CASE WHEN hostile.called('monetary +') THEN $1 END $$;
CREATE OPERATOR hostile.+ (LEFTARG = monetary, RIGHTARG = monetary, FUNCTION = hostile.m_plus);
CREATE FUNCTION hostile.m_minus(monetary, monetary) RETURNS monetary LANGUAGE sql
    AS $$ SELECT CASE WHEN hostile.called('monetary -') THEN $1 END $$;
CREATE OPERATOR hostile.- (LEFTARG = monetary, RIGHTARG = monetary, FUNCTION = hostile.m_minus);
CREATE FUNCTION hostile.m_eq(monetary, monetary) RETURNS boolean LANGUAGE sql
    AS $$ SELECT hostile.called('monetary =') $$;
CREATE OPERATOR hostile.= (LEFTARG = monetary, RIGHTARG = monetary, FUNCTION = hostile.m_eq);
CREATE FUNCTION hostile.c_eq(currency, currency) RETURNS boolean LANGUAGE sql
    AS $$ SELECT hostile.called('currency =') $$;
CREATE OPERATOR hostile.= (LEFTARG = currency, RIGHTARG = currency, FUNCTION = hostile.c_eq);
CREATE FUNCTION hostile.currency(monetary) RETURNS currency LANGUAGE sql
    AS $$ SELECT CASE WHEN hostile.called('currency()') THEN 'USD'::currency END $$;
CREATE FUNCTION hostile.amount(monetary) RETURNS numeric LANGUAGE sql
    AS $$ SELECT CASE WHEN hostile.called('amount()') THEN 0 END $$;
CREATE FUNCTION hostile.monetary(numeric, currency) RETURNS monetary LANGUAGE sql
    AS $$ SELECT CASE WHEN hostile.called('monetary()') THEN NULL::monetary END $$;
CREATE FUNCTION hostile.m_sum(monetary, monetary) RETURNS monetary LANGUAGE sql
    AS $$ SELECT CASE WHEN hostile.called('sum()') THEN $1 END $$;
CREATE AGGREGATE hostile.sum(monetary) (SFUNC = hostile.m_sum, STYPE = monetary);
-- pg_catalog's operators and functions, which a path that lists hostile
-- before pg_catalog would reach first
CREATE FUNCTION hostile.t_eq(text, text) RETURNS boolean LANGUAGE sql
    AS $$ SELECT hostile.called('text =') $$;
CREATE OPERATOR hostile.= (LEFTARG = text, RIGHTARG = text, FUNCTION = hostile.t_eq);
CREATE FUNCTION hostile.i_eq(bigint, bigint) RETURNS boolean LANGUAGE sql
    AS $$ SELECT hostile.called('bigint =') $$;
CREATE OPERATOR hostile.= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = hostile.i_eq);
CREATE FUNCTION hostile.j_eq(jsonb, jsonb) RETURNS boolean LANGUAGE sql
    AS $$ SELECT hostile.called('jsonb =') $$;
CREATE OPERATOR hostile.= (LEFTARG = jsonb, RIGHTARG = jsonb, FUNCTION = hostile.j_eq);
CREATE FUNCTION hostile.i_ne(bigint, bigint) RETURNS boolean LANGUAGE sql
    AS $$ SELECT hostile.called('bigint <>') $$;
CREATE OPERATOR hostile.<> (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = hostile.i_ne);
CREATE FUNCTION hostile.t_cat(text, text) RETURNS text LANGUAGE sql
    AS $$ SELECT CASE WHEN hostile.called('text ||') THEN $1 END $$;
CREATE OPERATOR hostile.|| (LEFTARG = text, RIGHTARG = text, FUNCTION = hostile.t_cat);
CREATE FUNCTION hostile.b_eq(boolean, boolean) RETURNS boolean LANGUAGE sql
    AS $$ SELECT hostile.called('boolean =') $$;
CREATE OPERATOR hostile.= (LEFTARG = boolean, RIGHTARG = boolean, FUNCTION = hostile.b_eq);
CREATE FUNCTION hostile.unnest(anyarray) RETURNS SETOF anyelement LANGUAGE sql
    AS $$ SELECT CASE WHEN hostile.called('unnest()') THEN NULL END $$;
CREATE FUNCTION hostile.now() RETURNS timestamptz LANGUAGE sql
    AS $$ SELECT CASE WHEN hostile.called('now()') THEN now() END $$;
CREATE FUNCTION hostile.nextval(regclass) RETURNS bigint LANGUAGE sql
    AS $$ SELECT CASE WHEN hostile.called('nextval()') THEN 1 END $$;
CREATE FUNCTION hostile.statement_timestamp() RETURNS timestamptz LANGUAGE sql
    AS $$ SELECT CASE WHEN hostile.called('statement_timestamp()') THEN now() END $$;
CREATE FUNCTION hostile.format(text, text) RETURNS text LANGUAGE sql
    AS $$ SELECT CASE WHEN hostile.called('format()') THEN '' END $$;
-- the ledger's tables
CREATE TABLE hostile.accounts (id bigint, ledger text, name text, currency currency);
CREATE TABLE hostile.transfers (id bigint, ledger text, idempotency_key text);
CREATE TABLE hostile.postings (transfer_id bigint, account_id bigint);
CREATE TABLE hostile.account_stripes (ledger text, account_id bigint, stripe smallint);
CREATE TABLE hostile.exchange_rates (LIKE payments.exchange_rates);
CREATE TABLE hostile.open_holds (ledger text, id bigint, expires_at timestamptz);
CREATE TRIGGER trap BEFORE INSERT OR UPDATE OR DELETE ON hostile.accounts
    FOR EACH ROW EXECUTE FUNCTION hostile.trap();
CREATE TRIGGER trap BEFORE INSERT OR UPDATE OR DELETE ON hostile.transfers
    FOR EACH ROW EXECUTE FUNCTION hostile.trap();
CREATE TRIGGER trap BEFORE INSERT OR UPDATE OR DELETE ON hostile.postings
    FOR EACH ROW EXECUTE FUNCTION hostile.trap();
CREATE TRIGGER trap BEFORE INSERT OR UPDATE OR DELETE ON hostile.account_stripes
    FOR EACH ROW EXECUTE FUNCTION hostile.trap();
CREATE TRIGGER trap BEFORE INSERT OR UPDATE OR DELETE ON hostile.open_holds
    FOR EACH ROW EXECUTE FUNCTION hostile.trap();
GRANT USAGE ON SCHEMA hostile TO PUBLIC;
GRANT SELECT ON ALL TABLES IN SCHEMA hostile TO PUBLIC;
RESET ROLE;

-- A superuser whose path starts with the hostile schema, before pg_catalog.
SET search_path = hostile, pg_catalog, public, payments;
-- (the trap works: an unqualified operator in this session's own SQL hits it)
SELECT try_sql($$SELECT '1 USD'::monetary + '1 USD'::monetary$$);

SELECT try_sql($$SELECT payments.create_account('sec_bank', 'USD', 'debit', true) > 0$$) AS bank,
       try_sql($$SELECT payments.create_account('sec_alice', 'USD') > 0$$) AS alice,
       try_sql($$SELECT payments.create_account('sec_bob', 'USD') > 0$$) AS bob;
SELECT payments.account_id('sec_bank') AS bank, payments.account_id('sec_alice') AS alice,
       payments.account_id('sec_bob') AS bob \gset
SELECT try_sql(format($$SELECT payments.post_transfer(%s, %s, '100.00 USD', 'sec-1') > 0$$,
                      :bank, :alice)) AS by_id;
SELECT try_sql($$SELECT payments.post_transfer_by_name('default', 'sec_alice', 'sec_bob', '30.00 USD', 'sec-2') > 0$$) AS by_name;
-- a replayed key, and a different request under it
SELECT try_sql(format($$SELECT payments.post_transfer(%s, %s, '100.00 USD', 'sec-1')
                              OPERATOR(pg_catalog.=) (SELECT t.id FROM payments.transfers t
                                  WHERE t.idempotency_key OPERATOR(pg_catalog.=) 'sec-1')$$,
                      :bank, :alice)) AS replayed;
SELECT try_sql(format($$SELECT payments.post_transfer(%s, %s, '1.00 USD', 'sec-1')$$,
                      :bank, :alice)) AS reused_key;
-- an entry of two transfers, and its replay
SELECT try_sql(format($$SELECT pg_catalog.array_length(payments.post_transfers(
                           ARRAY[ROW(%s, %s, '1.00 USD', 'sec-b1', NULL),
                                 ROW(%s, %s, '2.00 USD', NULL, '{"a": 1}')]::payments.transfer_request[],
                           'sec-entry', '{"e": 1}'), 1)$$,
                      :bank, :alice, :alice, :bob)) AS entry,
       try_sql(format($$SELECT pg_catalog.array_length(payments.post_transfers(
                           ARRAY[ROW(%s, %s, '1.00 USD', 'sec-b1', NULL),
                                 ROW(%s, %s, '2.00 USD', NULL, '{"a": 1}')]::payments.transfer_request[],
                           'sec-entry', '{"e": 1}'), 1)$$,
                      :bank, :alice, :alice, :bob)) AS replayed;
-- a plain INSERT, through the triggers
SELECT try_sql(format($$INSERT INTO payments.transfers (from_account, to_account, amount)
                       VALUES (%s, %s, '5.00 USD')$$, :alice, :bob)) AS insert;
-- a refusal still names its reason
SELECT try_sql(format($$SELECT payments.post_transfer(%s, %s, '1000.00 USD')$$, :bob, :alice)) AS overdraft;
SELECT try_sql(format($$UPDATE payments.postings SET amount = '1.00 USD'
                        WHERE account_id OPERATOR(pg_catalog.=) %s$$, :alice)) AS update;
-- reading
SELECT try_sql($$SELECT payments.balance_by_name('default', 'sec_alice')::text$$) AS alice,
       try_sql($$SELECT payments.balance_by_name('default', 'sec_bob')::text$$) AS bob,
       try_sql($$SELECT payments.available_balance_by_name('default', 'sec_alice')::text$$) AS alice_available,
       try_sql(format($$SELECT payments.balance(%s, 'infinity')::text$$, :alice)) AS alice_at;
SELECT try_sql(format($$SELECT string_agg(side OPERATOR(pg_catalog.||) ' ' OPERATOR(pg_catalog.||) amount::text
                                        OPERATOR(pg_catalog.||) ' ' OPERATOR(pg_catalog.||) balance_after::text,
                                        ', ' ORDER BY posting_id)
                         FROM payments.statement(%s, '-infinity', 'infinity')$$, :alice)) AS statement;
SELECT try_sql($$SELECT count(*) FROM payments.verify_ledger()$$) AS problems;
SELECT try_sql($$SELECT string_agg(name OPERATOR(pg_catalog.||) ' ' OPERATOR(pg_catalog.||) balance::text, ', '
                                   ORDER BY account_id)
                   FROM payments.account_balances
                  WHERE name OPERATOR(pg_catalog.~~) 'sec\_%'$$) AS balances;
SELECT try_sql($$SELECT string_agg(currency::text OPERATOR(pg_catalog.||) ' ' OPERATOR(pg_catalog.||) debits::text, ', ')
                   FROM payments.trial_balance$$) AS trial_balance;
-- status changes, through the account guard
SELECT try_sql($$SELECT payments.set_account_status_by_name('default', 'sec_bob', 'frozen')$$) AS freeze,
       try_sql($$SELECT payments.set_account_status_by_name('default', 'sec_bob', 'open')$$) AS reopen;
-- a hot account: made hot, a credit on a stripe, a debit on its row with
-- every stripe locked, its balance now and as of a time, its statement, cooled down
SELECT try_sql(format($$SELECT payments.set_hot(%s, true, 4)$$, :bob)) AS set_hot;
SELECT try_sql(format($$SELECT payments.post_transfer(%s, %s, '3.00 USD') > 0$$, :alice, :bob)) AS hot_credit,
       try_sql(format($$SELECT payments.post_transfer(%s, %s, '4.00 USD') > 0$$, :bob, :alice)) AS hot_debit;
SELECT try_sql(format($$SELECT payments.balance(%s)::text OPERATOR(pg_catalog.||) ' '
                               OPERATOR(pg_catalog.||) payments.balance(%s, 'infinity')::text$$,
                      :bob, :bob)) AS hot_balance,
       try_sql(format($$SELECT string_agg(balance_after::text, ', ' ORDER BY posting_id)
                         FROM payments.statement(%s, '-infinity', 'infinity')$$, :bob)) AS hot_statement,
       try_sql($$SELECT string_agg(name OPERATOR(pg_catalog.||) ' ' OPERATOR(pg_catalog.||) credits_posted::text, ', ')
                   FROM payments.account_volumes WHERE hot$$) AS volumes;
SELECT try_sql(format($$SELECT payments.set_hot(%s, false)$$, :bob)) AS cooled;
-- payment flows: a hold captured in part (and the capture replayed), one
-- released, one expired by the sweep, a refund and the reversal of an entry
SELECT payments.hold(:alice, :bob, '6.00 USD') AS hold \gset
SELECT try_sql(format($$SELECT payments.capture(%s, '5.00 USD', 'sec-c1')
                              OPERATOR(pg_catalog.=) payments.capture(%s, '5.00 USD', 'sec-c1')$$,
                      :hold, :hold)) AS captured,
       try_sql(format($$SELECT payments.release(payments.hold(%s, %s, '7.00 USD')) > 0$$,
                      :alice, :bob)) AS released,
       try_sql(format($$SELECT payments.hold(%s, %s, '8.00 USD', pg_catalog.clock_timestamp()
                                             OPERATOR(pg_catalog.+) interval '1 millisecond') > 0$$,
                      :alice, :bob)) AS held;
SELECT pg_sleep(0.01);
SELECT try_sql($$SELECT payments.expire_holds()$$) AS expired;
SELECT try_sql($$SELECT string_agg(status OPERATOR(pg_catalog.||) ' ' OPERATOR(pg_catalog.||) held::text,
                                   ', ' ORDER BY hold_id) FROM payments.holds$$) AS holds;
SELECT try_sql($$SELECT payments.reverse_transfer((SELECT max(t.id) FROM payments.transfers t
                                                   WHERE t.status OPERATOR(pg_catalog.=) 'posted'
                                                     AND t.pending_id IS NOT NULL), '1.00 USD') > 0$$) AS refunded,
       try_sql($$SELECT pg_catalog.array_length(payments.reverse_entry(
                          (SELECT t.entry_id FROM payments.transfers t
                            WHERE t.idempotency_key OPERATOR(pg_catalog.=) 'sec-b1'), 'sec-rev'), 1)$$) AS reversed;
SELECT try_sql(format($$SELECT string_agg(kind OPERATOR(pg_catalog.||) ' ' OPERATOR(pg_catalog.||) available_after::text,
                                        ', ' ORDER BY posting_id)
                         FROM payments.statement(%s, '-infinity', 'infinity')
                        WHERE kind OPERATOR(pg_catalog.<>) 'transfer'$$, :alice)) AS flows_statement;
SELECT try_sql($$SELECT count(*) FROM payments.verify_ledger()$$) AS problems;
-- conversion
SELECT try_sql($$SELECT payments.set_rate('EUR', 'USD', 1.25, '2024-01-01', 'sec')$$) AS set_rate,
       try_sql($$SELECT payments.set_rate('EUR', 'USD', 1.25, '2024-01-01', 'sec')$$) AS set_rate_again;
SELECT try_sql($$SELECT payments.rate('EUR', 'USD', '2024-06-01')::text$$) AS rate,
       try_sql($$SELECT payments.rate('USD', 'EUR', '2024-06-01')::text$$) AS inverse,
       try_sql($$SELECT payments.convert('10.00 EUR', 'USD', '2024-06-01')::text$$) AS convert,
       try_sql($$SELECT count(*) FROM payments.rates_at('2024-06-01')$$) AS rates_at;

-- The hostile role itself, with the application's grants, gets the same.
SET ROLE regress_hostile;
SET search_path = hostile, pg_catalog, public, payments;
SELECT try_sql($$SELECT payments.post_transfer_by_name('default', 'sec_alice', 'sec_bob', '1.00 USD', 'sec-3') > 0$$) AS by_name,
       try_sql($$SELECT payments.balance_by_name('default', 'sec_bob')::text$$) AS bob,
       try_sql($$SELECT payments.convert('10.00 EUR', 'USD', '2024-06-01')::text$$) AS convert,
       try_sql($$SELECT payments.capture(payments.hold(payments.account_id('sec_alice'),
                                                       payments.account_id('sec_bob'), '1.00 USD')) > 0$$) AS capture;
RESET ROLE;
RESET search_path;

-- Nothing landed in the look-alike tables.
SELECT (SELECT count(*) FROM hostile.accounts) + (SELECT count(*) FROM hostile.transfers)
       + (SELECT count(*) FROM hostile.postings) + (SELECT count(*) FROM hostile.exchange_rates)
       + (SELECT count(*) FROM hostile.account_stripes) + (SELECT count(*) FROM hostile.open_holds)
       AS hostile_rows;

DROP SCHEMA hostile CASCADE;
REVOKE ALL ON DATABASE :"datname" FROM regress_hostile;
DROP OWNED BY regress_hostile;
DROP ROLE regress_hostile;
