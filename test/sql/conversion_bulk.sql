--
-- 100,000 generated conversions against a reference computed with numeric.
--
-- Rates: a random history over 2024 for six stored pairs, with 2 to 30
-- significant digits, so that products overflow 128 bits now and then.
-- Cases: random amounts of eight currencies (scales 0 to 18), to random
-- targets, at random times (some exactly at a valid_from, some one
-- microsecond before), in every rounding mode but unnecessary.  Direct,
-- inverse, triangulated and same-code cases all occur.
--
-- The reference finds the route with plain SQL look-ups and computes the
-- exact result as a fraction of numeric integers (numeric * is exact, div()
-- and mod() on integers are exact), rounded by the mode with integer
-- arithmetic only.
--
SET TimeZone = 'UTC';
SET search_path = public, payments;

SELECT setseed(0.31);
INSERT INTO payments.exchange_rates (from_currency, to_currency, rate, valid_from, source)
SELECT p.f::currency, p.t::currency,
       round(p.base * (0.9 + 0.2 * (random()::numeric + random()::numeric * 1e-15
                                     + random()::numeric * 1e-30)),
             p.digits + floor(random() * 9)::int),
       timestamptz '2024-01-01' + CASE WHEN k = 0 THEN interval '0' ELSE random() * interval '366 days' END,
       'bulk'
  FROM (VALUES ('EUR', 'USD', 1.08, 2), ('USD', 'JPY', 150.0, 1), ('GBP', 'USD', 1.27, 2),
               ('USD', 'CHF', 0.88, 2), ('BHD', 'USD', 2.66, 3),
               ('ETH/18', 'USD', 3000.0, 22)) AS p(f, t, base, digits),
       generate_series(0, 119) AS k
ON CONFLICT DO NOTHING;
SELECT count(*) AS rates, count(DISTINCT (from_currency, to_currency)) AS pairs,
       max(length(btrim(replace(trim_scale(rate)::text, '.', ''), '0'))) AS longest
  FROM payments.exchange_rates;

CREATE TABLE conversion_cases AS
SELECT i, monetary(round((random() * 10 ^ (random() * 15))::numeric)
                            * (CASE WHEN random() < 0.3 THEN -1 ELSE 1 END)
                            / 10::numeric ^ scale(src), src) AS amount,
       dst, at, mode
  FROM (SELECT i,
               (ARRAY['EUR', 'USD', 'USD/4', 'GBP', 'JPY', 'CHF', 'BHD', 'ETH/18'])[1 + floor(random() * 8)::int]::currency AS src,
               (ARRAY['EUR', 'USD', 'USD/4', 'GBP', 'JPY', 'CHF', 'BHD', 'ETH/18'])[1 + floor(random() * 8)::int]::currency AS dst,
               (ARRAY['half_even', 'half_up', 'half_down', 'up', 'down', 'ceiling', 'floor'])[1 + floor(random() * 7)::int]::rounding_mode AS mode,
               random() AS u,
               timestamptz '2024-01-01' + random() * interval '366 days' AS t
          FROM generate_series(1, 100000) AS i) g,
       LATERAL (SELECT CASE
                   -- 2% exactly at some valid_from, 2% one microsecond before one
                   WHEN g.u < 0.04 THEN (SELECT e.valid_from FROM payments.exchange_rates e
                                          WHERE e.valid_from > '2024-01-01'
                                          ORDER BY e.valid_from
                                          OFFSET (g.i % 600) LIMIT 1)
                                        - CASE WHEN g.u < 0.02 THEN interval '0' ELSE interval '1 microsecond' END
                   ELSE g.t END AS at) a;
ANALYZE conversion_cases;

-- round(n / d) for integers n, d > 0 by mode, with div() and mod() only
CREATE FUNCTION conversion_ref_round(n numeric, d numeric, mode rounding_mode)
RETURNS numeric LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT q + sign(n) * CASE
        WHEN r = 0 THEN 0
        WHEN mode = 'half_even' THEN (2 * abs(r) > d OR (2 * abs(r) = d AND mod(q, 2) <> 0))::int
        WHEN mode = 'half_up' THEN (2 * abs(r) >= d)::int
        WHEN mode = 'half_down' THEN (2 * abs(r) > d)::int
        WHEN mode = 'up' THEN 1
        WHEN mode = 'down' THEN 0
        WHEN mode = 'ceiling' THEN (n > 0)::int
        WHEN mode = 'floor' THEN (n < 0)::int
    END
    FROM (SELECT div(n, d) AS q, mod(n, d) AS r) s
$$;

-- rate as an exact fraction of integers: numerator ...
CREATE FUNCTION conversion_ref_num(r numeric) RETURNS numeric LANGUAGE sql IMMUTABLE STRICT AS
    $$ SELECT r * 10::numeric ^ scale(r) $$;
-- ... and denominator
CREATE FUNCTION conversion_ref_den(r numeric) RETURNS numeric LANGUAGE sql IMMUTABLE STRICT AS
    $$ SELECT 10::numeric ^ scale(r) $$;

-- convert and the reference (in minor units of the target), side by side in one query
CREATE TABLE conversion_results AS
SELECT c.i, c.dst, c.mode, route.kind,
       payments.convert(c.amount, c.dst, c.at, c.mode) AS converted,
       conversion_ref_round(
           minor_units(c.amount) * f.num * 10::numeric ^ greatest(s.shift, 0),
           f.den * 10::numeric ^ greatest(-s.shift, 0), c.mode) AS reference
  FROM conversion_cases c,
       LATERAL (SELECT currency(c.amount) AS src,
                       scale(c.dst) - scale(currency(c.amount)) AS shift) s,
       -- the stored rates in force at the time, by plain look-ups
       LATERAL (SELECT (SELECT e.rate FROM payments.exchange_rates e
                 WHERE payments.currency_code(e.from_currency) = payments.currency_code(s.src)
                   AND payments.currency_code(e.to_currency) = payments.currency_code(c.dst)
                   AND e.valid_from <= c.at ORDER BY e.valid_from DESC LIMIT 1) AS direct,
                       (SELECT e.rate FROM payments.exchange_rates e
                 WHERE payments.currency_code(e.from_currency) = payments.currency_code(c.dst)
                   AND payments.currency_code(e.to_currency) = payments.currency_code(s.src)
                   AND e.valid_from <= c.at ORDER BY e.valid_from DESC LIMIT 1) AS inverse) d,
       LATERAL (SELECT CASE WHEN payments.currency_code(s.src) = payments.currency_code(c.dst) THEN 'rescale'
                            WHEN d.direct IS NOT NULL THEN 'direct'
                            WHEN d.inverse IS NOT NULL THEN 'inverse'
                            ELSE 'triangulated' END AS kind) route,
       -- the legs through USD, looked up for triangulated cases only
       LATERAL (SELECT CASE WHEN route.kind = 'triangulated' THEN (SELECT e.rate FROM payments.exchange_rates e
                 WHERE payments.currency_code(e.from_currency) = payments.currency_code(s.src)
                   AND payments.currency_code(e.to_currency) = payments.currency_code('USD')
                   AND e.valid_from <= c.at ORDER BY e.valid_from DESC LIMIT 1) END AS a_usd,
                       CASE WHEN route.kind = 'triangulated' THEN (SELECT e.rate FROM payments.exchange_rates e
                 WHERE payments.currency_code(e.from_currency) = payments.currency_code('USD')
                   AND payments.currency_code(e.to_currency) = payments.currency_code(s.src)
                   AND e.valid_from <= c.at ORDER BY e.valid_from DESC LIMIT 1) END AS usd_a,
                       CASE WHEN route.kind = 'triangulated' THEN (SELECT e.rate FROM payments.exchange_rates e
                 WHERE payments.currency_code(e.from_currency) = payments.currency_code('USD')
                   AND payments.currency_code(e.to_currency) = payments.currency_code(c.dst)
                   AND e.valid_from <= c.at ORDER BY e.valid_from DESC LIMIT 1) END AS usd_b,
                       CASE WHEN route.kind = 'triangulated' THEN (SELECT e.rate FROM payments.exchange_rates e
                 WHERE payments.currency_code(e.from_currency) = payments.currency_code(c.dst)
                   AND payments.currency_code(e.to_currency) = payments.currency_code('USD')
                   AND e.valid_from <= c.at ORDER BY e.valid_from DESC LIMIT 1) END AS b_usd) l,
       -- the factor as a fraction num / den of integers
       LATERAL (SELECT CASE route.kind
                    WHEN 'rescale' THEN 1
                    WHEN 'direct' THEN conversion_ref_num(d.direct)
                    WHEN 'inverse' THEN conversion_ref_den(d.inverse)
                    ELSE coalesce(conversion_ref_num(l.a_usd), conversion_ref_den(l.usd_a))
                       * coalesce(conversion_ref_num(l.usd_b), conversion_ref_den(l.b_usd))
                END AS num,
                CASE route.kind
                    WHEN 'rescale' THEN 1
                    WHEN 'direct' THEN conversion_ref_den(d.direct)
                    WHEN 'inverse' THEN conversion_ref_num(d.inverse)
                    ELSE coalesce(conversion_ref_den(l.a_usd), conversion_ref_num(l.usd_a))
                       * coalesce(conversion_ref_den(l.usd_b), conversion_ref_num(l.b_usd))
                END AS den) f;

-- every route kind and rounding mode occurs, and not one case differs
SELECT kind, count(*) AS cases, count(DISTINCT mode) AS modes,
       count(*) FILTER (WHERE minor_units(converted) IS DISTINCT FROM reference) AS mismatches
  FROM conversion_results GROUP BY ROLLUP (kind) ORDER BY kind;
-- the exact totals per target currency, sum() against numeric sum()
SELECT dst, count(*) AS cases, sum(converted) AS total,
       sum(reference) * ('1e-' || scale(dst))::numeric AS reference_total,
       minor_units(sum(converted)) = sum(reference) AS equal
  FROM conversion_results GROUP BY dst ORDER BY dst;

-- (any that differ, to debug from)
SELECT c.*, r.kind, r.converted, r.reference
  FROM conversion_results r JOIN conversion_cases c USING (i)
 WHERE minor_units(r.converted) IS DISTINCT FROM r.reference
 ORDER BY i LIMIT 5;

DROP TABLE conversion_results, conversion_cases;
DROP FUNCTION conversion_ref_round, conversion_ref_num, conversion_ref_den;
DELETE FROM payments.exchange_rates;
