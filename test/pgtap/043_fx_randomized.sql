-- Payments between currencies, randomised (DESIGN.md section 5): 10,000 FX
-- entries (payments.post_fx_transfer()) between six currencies of scales 0
-- to 18, at random amounts, times and rounding modes, from a fixed seed.
-- The rates make every kind of route occur (a stored pair, the inverse of
-- the opposite pair, through payments.base_currency with each leg direct or
-- inverse), and change over time, so that entries at different times take
-- different rates and, for some pairs, different routes.
--
-- Each entry is checked against a reference computed here, independently of
-- the extension's conversion code: the rate found in payments.exchange_rates
-- by the rule of README.md ("Which rate applies"), as an exact fraction, the
-- amount times it divided exactly by integer arithmetic and rounded once by
-- the entry's mode.  Then: convert() books what the entries booked, each
-- recorded rate gives its amounts back, the FX positions are the sums of
-- their legs, and verify_ledger() finds nothing.
BEGIN;
SET search_path = public, payments;
SET LOCAL TimeZone = 'UTC';
SET LOCAL payments.base_currency = 'USD';
SELECT plan(21);

-- A check that query returns no rows: one test on their count, and the first five
-- rows as a diagnostic when there are any.
CREATE FUNCTION pg_temp.no_rows(query text, description text)
RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
    first text;
BEGIN
    EXECUTE format('SELECT count(*), string_agg(t, E''\n'') FILTER (WHERE rn <= 5)
                      FROM (SELECT x::text AS t, row_number() OVER () AS rn FROM (%s) x) y',
                   query) INTO n, first;
    RETURN NEXT is(n, 0::bigint, description);
    IF n > 0 THEN
        RETURN NEXT diag(format(E'%s rows, the first:\n%s', n, first));
    END IF;
END
$$;

-- currencies, rates, accounts -------------------------------------------------------------

CREATE TEMP TABLE fx_currency (
    n        int PRIMARY KEY,
    code     text NOT NULL,      -- the code rates are stored between
    cur      currency NOT NULL,  -- the currency amounts are in
    unit_usd numeric NOT NULL,   -- roughly what one minor unit is worth in USD (sizes amounts)
    customers bigint[],          -- eight of each: each account row is updated by fewer
    merchants bigint[],          -- entries in this one transaction, which keeps it fast
    fx       bigint
);
INSERT INTO fx_currency (n, code, cur, unit_usd)
VALUES (1, 'USD', 'USD', 0.01), (2, 'EUR', 'EUR', 0.011), (3, 'JPY', 'JPY', 0.0067),
       (4, 'BHD', 'BHD', 0.0027), (5, 'ETH', 'ETH/18', 3e-15), (6, 'USDC', 'USDC/6', 1e-6);

-- Stored pairs: every currency to or from USD (the base); EUR -> JPY, BHD -> EUR and
-- ETH -> USDC; JPY -> ETH only from February, ETH -> JPY (its opposite) only from
-- March (both written with other scales of ETH: rates are between codes); USD -> USDC
-- only from April, when the opposite USDC -> USD also has a rate.
-- No rate either way between EUR and ETH or USDC, JPY and BHD or USDC, BHD and ETH or
-- USDC (and JPY and ETH before February): those go through USD.
SELECT payments.set_rate(f::currency, t::currency, r::numeric, v::timestamptz, s)
  FROM (VALUES
    ('EUR', 'USD', '1.0842317', '2024-01-01', 'ecb'),
    ('EUR', 'USD', '1.0876543', '2024-02-01', 'ecb'),
    ('EUR', 'USD', '1.08112904', '2024-02-14 09:30:00.123456', 'ecb intraday'),
    ('EUR', 'USD', '1.0791288', '2024-03-01', 'ecb'),
    ('USD', 'JPY', '148.23571', '2024-01-01', 'fed'),
    ('USD', 'JPY', '150.09418', '2024-02-01', NULL),
    ('USD', 'JPY', '151.3702', '2024-04-01', 'fed'),
    ('USD', 'BHD', '0.376', '2024-01-01', 'peg'),
    ('USD', 'BHD', '0.37602', '2024-03-01', 'peg'),
    ('ETH/18', 'USD', '2281.4375', '2024-01-01', 'exchange'),
    ('ETH/18', 'USD', '3712.55', '2024-02-01', 'exchange'),
    ('ETH/18', 'USD', '3390.0127', '2024-03-01', 'exchange'),
    ('ETH/18', 'USD', '3054.98', '2024-04-01', 'exchange'),
    ('USDC/6', 'USD', '1', '2024-01-01', 'par'),
    ('USDC/6', 'USD', '0.99987', '2024-02-01', 'exchange'),
    ('USDC/6', 'USD', '1.000213', '2024-03-01', 'exchange'),
    ('USD', 'USDC/6', '0.99991', '2024-04-01', 'exchange'),
    ('EUR', 'JPY', '160.72138', '2024-01-01', 'ecb'),
    ('EUR', 'JPY', '162.30945', '2024-03-01', 'ecb'),
    ('BHD', 'EUR', '2.4479611', '2024-01-01', 'cbb'),
    ('BHD', 'EUR', '2.4566032217358893201', '2024-04-01', 'cbb'),
    ('JPY', 'ETH/6', '0.00000179631045288107', '2024-02-01', 'exchange'),
    ('ETH/2', 'JPY', '557231.58', '2024-03-01', 'exchange'),
    ('ETH/18', 'USDC/6', '2281.90012', '2024-01-01', 'dex'),
    ('ETH/18', 'USDC/6', '3389.1', '2024-03-01', 'dex')
  ) AS r(f, t, r, v, s);

UPDATE fx_currency c
   SET fx = payments.create_fx_account(c.cur, 'fx-random'),
       customers = ARRAY(SELECT payments.create_account(format('customer %s %s', c.code, k), c.cur,
                                                        allow_negative => true, ledger => 'fx-random')
                           FROM generate_series(1, 8) AS k ORDER BY k),
       merchants = ARRAY(SELECT payments.create_account(format('merchant %s %s', c.code, k), c.cur,
                                                        ledger => 'fx-random')
                           FROM generate_series(1, 8) AS k ORDER BY k);

-- the requests ------------------------------------------------------------------------------

-- The times the entries convert at: every valid_from of a rate, the instant before each
-- later one, a time inside the first span and one after the last.
CREATE TEMP TABLE fx_time (n int PRIMARY KEY, at timestamptz NOT NULL);
INSERT INTO fx_time
SELECT row_number() OVER (ORDER BY at), at
  FROM unnest('{2024-01-01, 2024-01-01 07:00, 2024-01-31 23:59:59.999999, 2024-02-01,
                2024-02-14 09:30:00.123455, 2024-02-14 09:30:00.123456,
                2024-02-29 23:59:59.999999, 2024-03-01, 2024-03-31 23:59:59.999999,
                2024-04-01, 2024-10-18 12:00}'::timestamptz[]) AS at;

-- 10,000 requests from one seed: a customer in one currency pays a merchant in another.
-- Amounts are 1 minor unit up to 10^10 units of the currency, within what one transfer
-- may move (10^19 minor units, README.md "Sizes": 10 ETH at scale 18) on both sides:
-- 5% are one minor unit; the rest are below cap, the most whose worth is half of 10^19
-- minor units of the target, and have at most k digits, k uniform in kmin .. kmax, kmin
-- the digits of one minor unit of the target (so that few convert to nothing), kmax
-- the least of scale + 10, 19 and cap's: 25% of them end in 5 then zeros (half-way
-- amounts, which tie under short rates; a few of them, 5 * 10^(k-1), pass cap, and some
-- of those would pay more than 10^19 minor units: refusals checked too), the others are
-- random digits.
SELECT setseed(0.20240401);
CREATE TEMP TABLE fx_request AS
WITH r AS MATERIALIZED (
    SELECT i, random() AS r_src, random() AS r_dst, random() AS r_kind, random() AS r_digits,
           random() AS r_hi, random() AS r_lo, random() AS r_half, random() AS r_at,
           random() AS r_mode
      FROM generate_series(1, 10000) AS i
), d AS (
    SELECT r.*, s.n AS src, t.n AS dst, b.cap,
           kmin + floor(r.r_digits * (kmax - kmin + 1))::int AS k,
           -- 28 random digits
           floor(r.r_hi * 1e14)::numeric * 1e14 + floor(r.r_lo * 1e14)::numeric AS m
      FROM r
      JOIN fx_currency s ON s.n = 1 + floor(r.r_src * 6)::int
      JOIN fx_currency t ON t.n = 1 + (s.n + floor(r.r_dst * 5)::int) % 6
     CROSS JOIN LATERAL (
            SELECT greatest(1, ceil(log(t.unit_usd / s.unit_usd)))::int AS kmin,
                   least(scale(s.cur) + 10, 19, ceil(log(c.cap)))::int AS kmax, c.cap
              FROM (SELECT floor(1e19 * t.unit_usd / s.unit_usd / 2) AS cap) c) b
), a AS (
    SELECT d.*,
           CASE WHEN d.r_kind < 0.05 THEN 1
                WHEN d.r_kind < 0.30 THEN
                    floor(d.x / ('1e' || d.p)::numeric) * ('1e' || d.p)::numeric
                        + 5 * ('1e' || (d.p - 1))::numeric
                ELSE greatest(d.x, 1)
           END AS minor
      FROM (SELECT d.*, 1 + floor(d.r_half * least(d.k, 12))::int AS p,
                   mod(d.m, least(('1e' || d.k)::numeric, d.cap)) AS x
              FROM d) d
)
SELECT a.i, s.customers[1 + a.i % 8] AS payer, t.merchants[1 + a.i / 8 % 8] AS payee,
       s.code AS src_code, t.code AS dst_code, a.src, a.dst, s.cur AS src_cur,
       t.cur AS dst_cur, scale(s.cur) AS src_scale, scale(t.cur) AS dst_scale,
       a.minor, monetary(a.minor * ('1e-' || scale(s.cur))::numeric, s.cur) AS amount,
       tm.at AS rate_at,
       (ARRAY['half_even', 'half_up', 'half_down', 'up', 'down', 'ceiling',
              'floor']::rounding_mode[])[1 + floor(a.r_mode * 7)::int] AS mode
  FROM a
  JOIN fx_currency s ON s.n = a.src
  JOIN fx_currency t ON t.n = a.dst
  JOIN fx_time tm ON tm.n = 1 + floor(a.r_at * 11)::int;
ALTER TABLE fx_request ADD PRIMARY KEY (i);

-- the reference -----------------------------------------------------------------------------

-- The newest rate from f to t at a time, else the inverse of the newest from t to f,
-- as the fraction num / den, with the row it came from as fx_entries.rates lists it.
CREATE FUNCTION pg_temp.leg(f text, t text, at timestamptz)
RETURNS TABLE (num numeric, den numeric, inverse boolean, info jsonb)
LANGUAGE sql STABLE AS $$
    SELECT * FROM (
        (SELECT e.rate AS num, 1::numeric AS den, false AS inverse,
                jsonb_build_object('from', f, 'to', t, 'rate', e.rate, 'valid_from', e.valid_from,
                                   'source', e.source, 'inverse', false) AS info
           FROM payments.exchange_rates e
          WHERE split_part(e.from_currency::text, '/', 1) = f
            AND split_part(e.to_currency::text, '/', 1) = t
            AND e.valid_from <= at
          ORDER BY e.valid_from DESC LIMIT 1)
        UNION ALL
        (SELECT 1::numeric, e.rate, true,
                jsonb_build_object('from', t, 'to', f, 'rate', e.rate, 'valid_from', e.valid_from,
                                   'source', e.source, 'inverse', true)
           FROM payments.exchange_rates e
          WHERE split_part(e.from_currency::text, '/', 1) = t
            AND split_part(e.to_currency::text, '/', 1) = f
            AND e.valid_from <= at
          ORDER BY e.valid_from DESC LIMIT 1)
    ) l
    ORDER BY l.inverse LIMIT 1
$$;

-- The route from f to t at a time: the pair (direct or inverse), else through the base
-- currency, each leg direct or inverse; 'none' if there is none.
CREATE FUNCTION pg_temp.route(f text, t text, at timestamptz,
                              OUT kind text, OUT num numeric, OUT den numeric, OUT legs jsonb)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    base text := split_part(current_setting('payments.base_currency'), '/', 1);
    a record;
    b record;
BEGIN
    SELECT * INTO a FROM pg_temp.leg(f, t, at);
    IF FOUND THEN
        kind := CASE WHEN a.inverse THEN 'inverse' ELSE 'direct' END;
        num := a.num;
        den := a.den;
        legs := jsonb_build_array(a.info);
        RETURN;
    END IF;
    kind := 'none';
    IF f = base OR t = base THEN
        RETURN;
    END IF;
    SELECT * INTO a FROM pg_temp.leg(f, base, at);
    IF NOT FOUND THEN
        RETURN;
    END IF;
    SELECT * INTO b FROM pg_temp.leg(base, t, at);
    IF NOT FOUND THEN
        RETURN;
    END IF;
    kind := format('via %s: %s x %s', base, CASE WHEN a.inverse THEN 'inverse' ELSE 'direct' END,
                   CASE WHEN b.inverse THEN 'inverse' ELSE 'direct' END);
    num := a.num * b.num;      -- numeric products are exact
    den := a.den * b.den;
    legs := jsonb_build_array(a.info, b.info);
END
$$;

-- n / d (positive, exact decimals) as q = floor(n / d) and the remainder against half of
-- d: half = sign(2r - d), exact = (r = 0); by integer arithmetic only.
CREATE FUNCTION pg_temp.divide(n numeric, d numeric, OUT q numeric, OUT half int, OUT exact boolean)
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    k int := greatest(scale(n), scale(d));
    r numeric;
BEGIN
    n := n * ('1e' || k)::numeric;
    d := d * ('1e' || k)::numeric;
    IF n <> trunc(n) OR d <> trunc(d) OR n <= 0 OR d <= 0 THEN
        RAISE EXCEPTION 'not positive integers: % / %', n, d;
    END IF;
    q := div(trunc(n), trunc(d));
    r := n - q * d;
    IF r < 0 OR r >= d THEN
        RAISE EXCEPTION 'inexact division: % / % gave % remainder %', n, d, q, r;
    END IF;
    half := sign(2 * r - d)::int;
    exact := r = 0;
END
$$;

-- amount * rate in minor units of the target: minor * num * 10^dst_scale over
-- den * 10^src_scale, rounded once by the request's mode.
CREATE TEMP TABLE fx_reference AS
SELECT r.i, rt.kind, rt.num, rt.den, rt.legs, dv.q, dv.half, dv.exact,
       dv.q + CASE WHEN dv.exact THEN 0
                   ELSE CASE r.mode::text
                            WHEN 'down' THEN 0
                            WHEN 'floor' THEN 0
                            WHEN 'up' THEN 1
                            WHEN 'ceiling' THEN 1
                            WHEN 'half_up' THEN (dv.half >= 0)::int
                            WHEN 'half_down' THEN (dv.half > 0)::int
                            WHEN 'half_even' THEN (dv.half > 0 OR (dv.half = 0 AND mod(dv.q, 2) = 1))::int
                        END
              END AS minor
  FROM fx_request r
 CROSS JOIN LATERAL pg_temp.route(r.src_code, r.dst_code, r.rate_at) rt
 CROSS JOIN LATERAL pg_temp.divide(r.minor * rt.num * ('1e' || r.dst_scale)::numeric,
                                   rt.den * ('1e' || r.src_scale)::numeric) dv;
ALTER TABLE fx_reference ADD PRIMARY KEY (i);

-- what the requests cover ---------------------------------------------------------------------

SELECT is((SELECT format('%s requests, %s pairs, %s modes, %s times, scales %s, %s of one minor unit',
                         count(*), count(DISTINCT (src, dst)), count(DISTINCT mode),
                         count(DISTINCT rate_at),
                         (SELECT string_agg(DISTINCT src_scale::text, ',') FROM fx_request),
                         (count(*) FILTER (WHERE minor = 1) > 0)::text)
             FROM fx_request),
          '10000 requests, 30 pairs, 7 modes, 11 times, scales 0,18,2,3,6, true of one minor unit',
          'the requests cover every ordered pair, rounding mode and time');
SELECT is(ARRAY(SELECT DISTINCT kind FROM fx_reference ORDER BY 1),
          ARRAY['direct', 'inverse', 'via USD: direct x direct', 'via USD: direct x inverse',
                'via USD: inverse x direct', 'via USD: inverse x inverse'],
          'every kind of route occurs: a stored pair, its inverse, and through USD with each leg either');
SELECT is(ARRAY(SELECT format('%s>%s', q.src_code, q.dst_code) FROM fx_request q
                  JOIN fx_reference f USING (i)
                 GROUP BY q.src_code, q.dst_code HAVING count(DISTINCT f.kind) > 1 ORDER BY 1),
          ARRAY['BHD>USDC', 'ETH>JPY', 'EUR>USDC', 'JPY>ETH', 'JPY>USDC', 'USD>USDC'],
          'pairs change route over time: a stored pair appearing, or a leg of one through USD');
SELECT pg_temp.no_rows($$
    SELECT e.* FROM payments.exchange_rates e
     WHERE NOT EXISTS (SELECT FROM fx_reference f, jsonb_array_elements(f.legs) l
                        WHERE l->>'from' = split_part(e.from_currency::text, '/', 1)
                          AND l->>'to' = split_part(e.to_currency::text, '/', 1)
                          AND (l->>'valid_from')::timestamptz = e.valid_from)
$$, 'every stored rate is used by some entry');
SELECT is((SELECT string_agg(format('%s %s', mode, n), ', ' ORDER BY mode)
             FROM (SELECT q.mode, count(*) AS n FROM fx_request q JOIN fx_reference f USING (i)
                    WHERE f.half = 0 AND q.mode IN ('half_even', 'half_up', 'half_down')
                      AND f.minor > 0
                    GROUP BY q.mode) t) ~ '^half_even \d+, half_up \d+, half_down \d+$',
          true,
          'exact ties occur under each half mode (the half-way amounts under short rates)');

-- posting -------------------------------------------------------------------------------------

CREATE TEMP TABLE fx_outcome (i int PRIMARY KEY, entry_id bigint, state text, message text);

-- Posts requests first .. last, recording each one's entry or error.  Each request the
-- reference expects to be refused, or every one if careful, is posted in a block of its
-- own (a subtransaction); the others not, which is several times faster.
CREATE FUNCTION pg_temp.post(first int, last int, careful boolean) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    q record;
    id bigint;
    state text;
    message text;
BEGIN
    FOR q IN SELECT r.i, r.payer, r.payee, r.amount, r.dst_cur, r.rate_at, r.mode,
                    f.minor = 0 OR greatest(r.minor, f.minor) > 1e19 AS refused
               FROM fx_request r
               JOIN fx_reference f USING (i)
              WHERE r.i BETWEEN first AND last
              ORDER BY r.i
    LOOP
        IF q.refused OR careful THEN
            BEGIN
                id := payments.post_fx_transfer(q.payer, q.payee, q.amount, q.dst_cur,
                                                q.rate_at, q.mode);
                INSERT INTO fx_outcome VALUES (q.i, id, NULL, NULL);
            EXCEPTION WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT;
                INSERT INTO fx_outcome VALUES (q.i, NULL, state, message);
            END;
        ELSE
            id := payments.post_fx_transfer(q.payer, q.payee, q.amount, q.dst_cur,
                                            q.rate_at, q.mode);
            INSERT INTO fx_outcome VALUES (q.i, id, NULL, NULL);
        END IF;
    END LOOP;
END
$$;

-- In order, 200 requests at a time; a batch that fails where it was not expected to is
-- posted again, carefully, so that every request's outcome is recorded.
CREATE TEMP TABLE fx_clock (started timestamptz, finished timestamptz);
INSERT INTO fx_clock VALUES (clock_timestamp(), NULL);
DO $$
BEGIN
    FOR b IN 0 .. 49 LOOP
        BEGIN
            PERFORM pg_temp.post(b * 200 + 1, b * 200 + 200, false);
        EXCEPTION WHEN OTHERS THEN
            PERFORM pg_temp.post(b * 200 + 1, b * 200 + 200, true);
        END;
    END LOOP;
END
$$;
UPDATE fx_clock SET finished = clock_timestamp();

-- Statistics for the tables just filled.  Without them the planner takes the row counts
-- autovacuum last saw: once it has vacuumed these tables empty (after earlier runs,
-- rolled back), 0 rows, and the checks below, verify_ledger()'s among them, join the
-- 10,000 entries by nested loops, for minutes.  (ANALYZE counts this transaction's
-- rows.)
ANALYZE payments.accounts, payments.account_stripes, payments.transfers, payments.postings,
        payments.entries, payments.fx_entries, payments.fx_accounts, payments.exchange_rates,
        fx_request, fx_reference, fx_outcome;
SELECT diag(format('posted %s FX entries, %s refused, in %s',
                   (SELECT count(entry_id) FROM fx_outcome),
                   (SELECT count(*) - count(entry_id) FROM fx_outcome),
                   (SELECT finished - started FROM fx_clock)));

-- the entries against the reference -----------------------------------------------------------

-- What each request should come to: refused if it converts to nothing (23514), or if
-- either leg would move more than 10^19 minor units (22003); else posted.
SELECT pg_temp.no_rows($$
    SELECT q.i, q.amount, q.dst_cur, q.rate_at, q.mode, f.kind, f.minor AS reference_minor,
           e.expected, o.entry_id, o.state, o.message
      FROM fx_request q JOIN fx_reference f USING (i) JOIN fx_outcome o USING (i)
     CROSS JOIN LATERAL (
            SELECT CASE WHEN f.minor = 0 THEN '23514'
                        WHEN greatest(q.minor, f.minor) > 1e19 THEN '22003'
                   END AS expected) e
     WHERE o.state IS DISTINCT FROM e.expected
        OR (o.entry_id IS NULL) <> (e.expected IS NOT NULL)
$$, 'exactly the requests that convert to nothing are refused (23514), and those too large for a transfer (22003)');
SELECT ok((SELECT count(*) FILTER (WHERE entry_id IS NULL) BETWEEN 1 AND 500
              AND count(entry_id) >= 9500
             FROM fx_outcome),
          'at least 9500 entries are posted, and some requests are refused');
SELECT pg_temp.no_rows($$
    SELECT q.i, o.entry_id, x.*
      FROM fx_request q
      JOIN fx_outcome o USING (i)
      FULL JOIN (SELECT * FROM payments.fx_entries WHERE ledger = 'fx-random') x
             ON x.entry_id = o.entry_id
     WHERE (o.entry_id IS NOT NULL OR x.entry_id IS NOT NULL)
       AND (x.entry_id IS NULL OR o.entry_id IS NULL
            OR x.from_account IS DISTINCT FROM q.payer
            OR x.to_account IS DISTINCT FROM q.payee
            OR x.amount::text IS DISTINCT FROM q.amount::text
            OR minor_units(x.amount) IS DISTINCT FROM q.minor
            OR currency(x.converted)::text IS DISTINCT FROM q.dst_cur::text
            OR x.rounding IS DISTINCT FROM q.mode
            OR x.basis IS DISTINCT FROM 'stored'
            OR x.rate_at IS DISTINCT FROM q.rate_at
            OR x.quote IS NOT NULL OR x.reverses_entry IS NOT NULL
            OR x.refunded_before IS NOT NULL)
$$, 'one FX entry per posted request, recording its accounts, amount, currency, mode and time');
SELECT pg_temp.no_rows($$
    SELECT q.i, x.entry_id, q.amount, q.dst_cur, q.rate_at, q.mode, f.kind, f.num, f.den,
           x.converted, minor_units(x.converted) AS booked_minor, f.minor AS reference_minor
      FROM fx_request q JOIN fx_reference f USING (i) JOIN fx_outcome o USING (i)
      JOIN payments.fx_entries x ON x.ledger = 'fx-random' AND x.entry_id = o.entry_id
     WHERE minor_units(x.converted) <> f.minor
$$, 'every entry converts to the reference: the exact product with the rate, rounded once');
SELECT pg_temp.no_rows($$
    SELECT q.i, x.entry_id, f.kind, f.num, f.den, x.rate_numerator, x.rate_denominator
      FROM fx_request q JOIN fx_reference f USING (i) JOIN fx_outcome o USING (i)
      JOIN payments.fx_entries x ON x.ledger = 'fx-random' AND x.entry_id = o.entry_id
     WHERE x.rate_numerator * f.den <> f.num * x.rate_denominator
        OR x.rate_numerator <= 0 OR x.rate_denominator <= 0
$$, 'every entry records the reference''s rate, exactly (as a fraction)');
SELECT pg_temp.no_rows($$
    SELECT q.i, x.entry_id, f.legs AS reference, x.rates AS recorded
      FROM fx_request q JOIN fx_reference f USING (i) JOIN fx_outcome o USING (i)
      JOIN payments.fx_entries x ON x.ledger = 'fx-random' AND x.entry_id = o.entry_id
     WHERE x.rates IS DISTINCT FROM f.legs
$$, 'every entry lists the stored rates it used, and whether it divided by them');

-- the entries against the extension's own conversion --------------------------------------------

SELECT pg_temp.no_rows($$
    SELECT x.entry_id, x.amount, x.converted, x.rate_at, x.rounding,
           payments.convert(x.amount, currency(x.converted), x.rate_at, x.rounding) AS converts
      FROM payments.fx_entries x
     WHERE x.ledger = 'fx-random'
       AND payments.convert(x.amount, currency(x.converted), x.rate_at, x.rounding) <> x.converted
$$, 'every entry books what payments.convert() returns at its time and mode');
SELECT pg_temp.no_rows($$
    SELECT q.i, q.amount, q.dst_cur, q.rate_at, q.mode,
           payments.convert(q.amount, q.dst_cur, q.rate_at, q.mode) AS converts
      FROM fx_request q JOIN fx_outcome o USING (i)
     WHERE o.state = '23514'
       AND amount(payments.convert(q.amount, q.dst_cur, q.rate_at, q.mode)) <> 0
$$, 'every request refused as converting to nothing is one that payments.convert() turns into nothing');
SELECT pg_temp.no_rows($$
    SELECT x.entry_id, x.amount, x.converted, x.rate_numerator, x.rate_denominator, x.rounding,
           payments.convert_at_rate(x.amount, currency(x.converted), x.rate_numerator,
                                    x.rate_denominator, x.rounding) AS at_rate
      FROM payments.fx_entries x
     WHERE x.ledger = 'fx-random'
       AND payments.convert_at_rate(x.amount, currency(x.converted), x.rate_numerator,
                                    x.rate_denominator, x.rounding) <> x.converted
$$, 'every entry''s recorded rate and rounding give its converted amount back (convert_at_rate())');

-- the legs and the positions ---------------------------------------------------------------------

SELECT pg_temp.no_rows($$
    SELECT x.entry_id, x.amount, x.converted, t.legs
      FROM payments.fx_entries x
      JOIN fx_currency s ON s.cur = currency(x.amount)
      JOIN fx_currency d ON d.cur = currency(x.converted)
     CROSS JOIN LATERAL (
            SELECT string_agg(format('%s->%s %s %s', t.from_account, t.to_account, t.amount,
                                     t.status), ', ' ORDER BY t.id) AS legs
              FROM payments.transfers t
             WHERE t.ledger = x.ledger AND t.entry_id = x.entry_id) t
     WHERE x.ledger = 'fx-random'
       AND t.legs IS DISTINCT FROM format('%s->%s %s posted, %s->%s %s posted',
                                          x.from_account, s.fx, x.amount,
                                          d.fx, x.to_account, x.converted)
$$, 'every entry is two posted transfers: the payer into the FX account of its currency, the FX account of the other to the payee');
SELECT pg_temp.no_rows($$
    SELECT c.code, p.position, l.credits, l.debits
      FROM fx_currency c
      JOIN payments.fx_positions p ON p.ledger = 'fx-random' AND p.account_id = c.fx
     CROSS JOIN LATERAL (
            SELECT coalesce(sum(amount(t.amount)) FILTER (WHERE t.to_account = c.fx), 0) AS credits,
                   coalesce(sum(amount(t.amount)) FILTER (WHERE t.from_account = c.fx), 0) AS debits
              FROM payments.transfers t
             WHERE t.ledger = 'fx-random' AND t.status = 'posted'
               AND c.fx IN (t.from_account, t.to_account)) l
     WHERE amount(p.position) <> l.credits - l.debits
        OR currency(p.position)::text <> c.cur::text
$$, 'each FX position is its account''s credits less its debits in payments.transfers');
SELECT pg_temp.no_rows($$
    SELECT c.code, p.position, e.paid_in, e.paid_out
      FROM fx_currency c
      JOIN payments.fx_positions p ON p.ledger = 'fx-random' AND p.account_id = c.fx
     CROSS JOIN LATERAL (
            SELECT coalesce(sum(amount(x.amount)) FILTER (WHERE currency(x.amount) = c.cur), 0) AS paid_in,
                   coalesce(sum(amount(x.converted)) FILTER (WHERE currency(x.converted) = c.cur), 0) AS paid_out
              FROM payments.fx_entries x WHERE x.ledger = 'fx-random') e
     WHERE amount(p.position) <> e.paid_in - e.paid_out
$$, 'each FX position is what entries paid in, in its currency, less what they paid out');
SELECT pg_temp.no_rows($$
    SELECT c.code, p.position, p.available, payments.balance(c.fx) AS balance,
           payments.available_balance(c.fx) AS available_balance
      FROM fx_currency c
      LEFT JOIN payments.fx_positions p ON p.ledger = 'fx-random' AND p.account_id = c.fx
     WHERE p.position IS DISTINCT FROM payments.balance(c.fx)
        OR p.available IS DISTINCT FROM p.position
        OR payments.available_balance(c.fx) IS DISTINCT FROM p.position
$$, 'fx_positions shows each FX account''s balance, and all of it available');
SELECT pg_temp.no_rows($$
    SELECT a.role, a.id, payments.balance(a.id) AS balance, e.paid, e.received
      FROM (SELECT 'customer' AS role, unnest(customers) AS id FROM fx_currency
            UNION ALL
            SELECT 'merchant', unnest(merchants) FROM fx_currency) a
     CROSS JOIN LATERAL (
            SELECT coalesce(sum(amount(x.amount)) FILTER (WHERE x.from_account = a.id), 0) AS paid,
                   coalesce(sum(amount(x.converted)) FILTER (WHERE x.to_account = a.id), 0) AS received
              FROM payments.fx_entries x WHERE x.ledger = 'fx-random') e
     WHERE amount(payments.balance(a.id)) <> e.received - e.paid
        OR (a.role = 'customer' AND (e.received <> 0 OR e.paid = 0))
        OR (a.role = 'merchant' AND (e.paid <> 0 OR e.received = 0))
$$, 'each customer is down what it paid, each merchant up what it received (and each was used)');
SELECT ok((SELECT bool_and(amount(position) <> 0) FROM payments.fx_positions
            WHERE ledger = 'fx-random'),
          'every FX account has a position (the checks above compared something)');

SELECT pg_temp.no_rows('SELECT * FROM payments.verify_ledger()',
                       'verify_ledger() finds nothing wrong');

SELECT * FROM finish();
ROLLBACK;
