-- Conversion: dated exchange rates, payments.rate(), payments.convert().
--
-- A rate is the exact price of one unit of a code in another code from
-- valid_from on; rates are between codes, so the EUR -> USD rate also serves
-- EUR/4 -> USD/6.  Reading rates is STABLE; payments.convert() rounds once,
-- to the target's minor unit, from the exact product (see src/conversion.c).
--
-- Search paths: the money types and their operators live in the schema of
-- extension monetary, wherever that was created, and CREATE EXTENSION puts it
-- on the path while this script runs.  So SQL bodies here are SQL-standard
-- (BEGIN ATOMIC), bound when created; payments.set_rate() is PL/pgSQL,
-- resolved at run time under its SET search_path, and uses no money operator.
-- The C functions run their SPI queries with every name schema-qualified.

CREATE FUNCTION payments.currency_code(currency) RETURNS text
    AS 'MODULE_PATHNAME', 'conversion_currency_code'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
COMMENT ON FUNCTION payments.currency_code(currency) IS
    'the currency''s code without its scale: USD for USD and USD/4; rates are between codes';

-- exchange_rates ---------------------------------------------------------

CREATE TABLE payments.exchange_rates (
    from_currency currency NOT NULL,
    to_currency   currency NOT NULL,
    rate          numeric NOT NULL,
    valid_from    timestamptz NOT NULL,
    source        text,
    CONSTRAINT exchange_rates_pkey PRIMARY KEY (from_currency, to_currency, valid_from),
    CONSTRAINT exchange_rates_rate_positive CHECK (rate > 0),
    -- NaN sorts above Infinity, so this refuses both
    CONSTRAINT exchange_rates_rate_finite CHECK (rate < 'Infinity'),
    -- checked for positive finite rates only, so that a bad rate breaks one constraint
    CONSTRAINT exchange_rates_rate_range CHECK (
        NOT (rate > 0 AND rate < 'Infinity')
        OR (length(btrim(replace(trim_scale(rate)::text, '.', ''), '0')) <= 38
            AND rate BETWEEN 1e-1000 AND 1e1000)),
    CONSTRAINT exchange_rates_pair CHECK (
        payments.currency_code(from_currency) <> payments.currency_code(to_currency))
);
-- One rate per pair of codes and time, whatever the scales written; the
-- look-ups of payments.rate() and payments.convert() go through this index.
CREATE UNIQUE INDEX exchange_rates_codes_valid_from ON payments.exchange_rates
    (payments.currency_code(from_currency), payments.currency_code(to_currency), valid_from);

SELECT pg_catalog.pg_extension_config_dump('payments.exchange_rates', '');

COMMENT ON TABLE payments.exchange_rates IS
    'dated exchange rates: one from_currency is worth rate to_currency from valid_from until the pair''s next row; kept by pg_dump';
COMMENT ON COLUMN payments.exchange_rates.from_currency IS 'the currency priced (its scale does not matter)';
COMMENT ON COLUMN payments.exchange_rates.to_currency IS 'the currency the price is in (its scale does not matter)';
COMMENT ON COLUMN payments.exchange_rates.rate IS
    'the exact price of one from_currency in to_currency: positive, at most 38 significant digits, never rounded';
COMMENT ON COLUMN payments.exchange_rates.valid_from IS 'when the rate takes effect; it holds until the next row of the pair';
COMMENT ON COLUMN payments.exchange_rates.source IS 'where the rate came from (a feed, a contract), for audit';
COMMENT ON INDEX payments.exchange_rates_codes_valid_from IS
    'one rate per pair of codes and time; serves the newest-rate-at look-ups';
COMMENT ON CONSTRAINT exchange_rates_pkey ON payments.exchange_rates IS
    'one row per pair of currencies and time; a key of plain columns, for replication and tools';
COMMENT ON CONSTRAINT exchange_rates_rate_positive ON payments.exchange_rates IS
    'a rate is greater than zero';
COMMENT ON CONSTRAINT exchange_rates_rate_finite ON payments.exchange_rates IS
    'a rate is a number: not NaN, not Infinity';
COMMENT ON CONSTRAINT exchange_rates_rate_range ON payments.exchange_rates IS
    'a rate has at most 38 significant digits and lies between 1e-1000 and 1e1000, so conversion can use it exactly';
COMMENT ON CONSTRAINT exchange_rates_pair ON payments.exchange_rates IS
    'a rate links two different codes; two scales of one code need none';

-- set_rate ---------------------------------------------------------------

CREATE FUNCTION payments.set_rate("from" currency, "to" currency,
        rate numeric, valid_from timestamptz DEFAULT now(), source text DEFAULT NULL)
    RETURNS void
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, payments, pg_temp
AS $$
DECLARE
    old payments.exchange_rates;
BEGIN
    IF set_rate."from" IS NULL OR set_rate."to" IS NULL OR set_rate.rate IS NULL
       OR set_rate.valid_from IS NULL THEN
        RAISE EXCEPTION 'exchange rate currencies, rate and valid_from must not be null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- currencies compared by their text, which is canonical: this body resolves
    -- names at run time, through a search_path that need not hold monetary's schema
    IF set_rate."from"::text = set_rate."to"::text THEN
        RAISE EXCEPTION 'exchange rate from a currency to itself: %', set_rate."from"
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'An exchange rate links two different currencies.';
    END IF;
    IF payments.currency_code(set_rate."from") = payments.currency_code(set_rate."to") THEN
        RAISE EXCEPTION 'exchange rate between two scales of one currency: % and %',
                set_rate."from", set_rate."to"
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('Converting between %s and %s is a rescale and needs no rate.',
                                  set_rate."from", set_rate."to");
    END IF;
    IF set_rate.rate = 'NaN' THEN
        RAISE EXCEPTION 'exchange rate from % to % must be a number: NaN',
                set_rate."from", set_rate."to"
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF set_rate.rate <= 0 THEN
        RAISE EXCEPTION 'exchange rate from % to % must be positive: %',
                set_rate."from", set_rate."to", set_rate.rate
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('A rate is the price of one %s in %s.',
                                  set_rate."from", set_rate."to");
    END IF;
    IF set_rate.rate = 'Infinity' OR set_rate.rate NOT BETWEEN 1e-1000 AND 1e1000
       OR length(btrim(replace(trim_scale(set_rate.rate)::text, '.', ''), '0')) > 38 THEN
        RAISE EXCEPTION 'exchange rate from % to % out of range: %',
                set_rate."from", set_rate."to",
                CASE WHEN length(set_rate.rate::text) <= 50 THEN set_rate.rate::text
                     ELSE btrim(to_char(set_rate.rate, '9.999999999EEEE')) END
            USING ERRCODE = 'numeric_value_out_of_range',
                  DETAIL = 'A rate has at most 38 significant digits and lies between 1e-1000 and 1e1000.';
    END IF;

    LOOP
        INSERT INTO payments.exchange_rates (from_currency, to_currency, rate, valid_from, source)
            VALUES (set_rate."from", set_rate."to", set_rate.rate, set_rate.valid_from, set_rate.source)
            ON CONFLICT DO NOTHING;
        IF FOUND THEN
            RETURN;
        END IF;
        -- a rate at that time already: the same one again is a retry, and fine
        SELECT * INTO old FROM payments.exchange_rates e
         WHERE payments.currency_code(e.from_currency) = payments.currency_code(set_rate."from")
           AND payments.currency_code(e.to_currency) = payments.currency_code(set_rate."to")
           AND e.valid_from = set_rate.valid_from;
        IF FOUND THEN
            IF old.rate = set_rate.rate AND old.source IS NOT DISTINCT FROM set_rate.source THEN
                RETURN;
            END IF;
            RAISE EXCEPTION 'exchange rate from % to % at % is already set: %',
                    old.from_currency, old.to_currency, old.valid_from, old.rate
                USING ERRCODE = 'unique_violation',
                      DETAIL = format('The rate set is %s from %s; payments.set_rate() never replaces a rate, '
                                      'and accepts the same rate and source again as a retry.',
                                      old.rate, coalesce(quote_literal(old.source), 'no source')),
                      HINT = 'Give a later valid_from for a new rate, or UPDATE payments.exchange_rates to correct a wrong one.';
        END IF;
        -- the conflicting row went away meanwhile: try again
    END LOOP;
END
$$;
COMMENT ON FUNCTION payments.set_rate(currency, currency, numeric, timestamptz, text) IS
    'records that one "from" is worth rate "to" from valid_from on; the same rate again is a no-op, a different one at the same time an error';

-- rate and convert -------------------------------------------------------

CREATE FUNCTION payments.rate("from" currency, "to" currency,
        at timestamptz DEFAULT now()) RETURNS numeric
    AS 'MODULE_PATHNAME', 'conversion_rate'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION payments.rate(currency, currency, timestamptz) IS
    'the rate in force at a time: direct, else the inverse of the opposite pair, else through payments.base_currency; derived rates are rounded half-even to 38 significant digits';

CREATE FUNCTION payments.convert(monetary, "to" currency,
        at timestamptz DEFAULT now(),
        mode rounding_mode DEFAULT 'half_even') RETURNS monetary
    AS 'MODULE_PATHNAME', 'conversion_convert'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION payments.convert(monetary, currency, timestamptz, rounding_mode) IS
    'the amount in another currency at a time: the exact product with the rate(s), rounded once to the target''s minor unit';

-- The rule of every FX entry (payments.fx_entries): the exact product with a
-- rate given as a fraction, rounded once.
CREATE FUNCTION payments.convert_at_rate(monetary, "to" currency,
        rate_numerator numeric, rate_denominator numeric DEFAULT 1,
        mode rounding_mode DEFAULT 'half_even') RETURNS monetary
    AS 'MODULE_PATHNAME', 'fx_convert_at_rate'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION payments.convert_at_rate(monetary, currency, numeric, numeric, rounding_mode) IS
    'the amount in another currency at a given rate (rate_numerator / rate_denominator units of "to" per unit of the amount''s currency): the exact product, rounded once to the target''s minor unit';

-- analysts' helpers ------------------------------------------------------

CREATE FUNCTION payments.rates_at(at timestamptz DEFAULT now())
    RETURNS TABLE (from_currency currency, to_currency currency,
                   rate numeric, valid_from timestamptz, source text)
    LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT DISTINCT ON (payments.currency_code(e.from_currency), payments.currency_code(e.to_currency))
           e.from_currency, e.to_currency, e.rate, e.valid_from, e.source
      FROM payments.exchange_rates e
     WHERE e.valid_from <= rates_at.at
     ORDER BY payments.currency_code(e.from_currency), payments.currency_code(e.to_currency),
              e.valid_from DESC;
END;
COMMENT ON FUNCTION payments.rates_at(timestamptz) IS
    'the stored rate in force at a time, one row per pair as stored (no inverses or triangulation)';
