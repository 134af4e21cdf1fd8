-- Money: the currency and monetary types, rounding, allocation, aggregates.
-- Every function here is pure: IMMUTABLE STRICT PARALLEL SAFE, except the
-- aggregates' internal-state helpers, which are not STRICT.

-- currency ---------------------------------------------------------------

CREATE TYPE payments.currency;

CREATE FUNCTION payments.currency_in(cstring) RETURNS payments.currency
    AS 'MODULE_PATHNAME', 'currency_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION payments.currency_out(payments.currency) RETURNS cstring
    AS 'MODULE_PATHNAME', 'currency_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION payments.currency_recv(internal) RETURNS payments.currency
    AS 'MODULE_PATHNAME', 'currency_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION payments.currency_send(payments.currency) RETURNS bytea
    AS 'MODULE_PATHNAME', 'currency_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE payments.currency (
    INPUT = payments.currency_in,
    OUTPUT = payments.currency_out,
    RECEIVE = payments.currency_recv,
    SEND = payments.currency_send,
    INTERNALLENGTH = 8,
    PASSEDBYVALUE,
    ALIGNMENT = double,
    STORAGE = plain
);
COMMENT ON TYPE payments.currency IS
    'an asset: an ISO 4217 code at its own scale (USD), or CODE/SCALE (ETH/18, USD/4)';

CREATE FUNCTION payments.currency_eq(payments.currency, payments.currency) RETURNS boolean
    AS 'MODULE_PATHNAME', 'currency_eq' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION payments.currency_ne(payments.currency, payments.currency) RETURNS boolean
    AS 'MODULE_PATHNAME', 'currency_ne' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION payments.currency_lt(payments.currency, payments.currency) RETURNS boolean
    AS 'MODULE_PATHNAME', 'currency_lt' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION payments.currency_le(payments.currency, payments.currency) RETURNS boolean
    AS 'MODULE_PATHNAME', 'currency_le' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION payments.currency_gt(payments.currency, payments.currency) RETURNS boolean
    AS 'MODULE_PATHNAME', 'currency_gt' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION payments.currency_ge(payments.currency, payments.currency) RETURNS boolean
    AS 'MODULE_PATHNAME', 'currency_ge' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION payments.currency_cmp(payments.currency, payments.currency) RETURNS integer
    AS 'MODULE_PATHNAME', 'currency_cmp' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION payments.currency_hash(payments.currency) RETURNS integer
    AS 'MODULE_PATHNAME', 'currency_hash' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION payments.currency_hash_extended(payments.currency, bigint) RETURNS bigint
    AS 'MODULE_PATHNAME', 'currency_hash_extended' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;

COMMENT ON FUNCTION payments.currency_in(cstring) IS 'reads a currency from text';
COMMENT ON FUNCTION payments.currency_out(payments.currency) IS 'writes a currency as text';
COMMENT ON FUNCTION payments.currency_recv(internal) IS 'reads a currency in binary form';
COMMENT ON FUNCTION payments.currency_send(payments.currency) IS 'writes a currency in binary form';
COMMENT ON FUNCTION payments.currency_eq(payments.currency, payments.currency) IS 'same code and scale';
COMMENT ON FUNCTION payments.currency_ne(payments.currency, payments.currency) IS 'different code or scale';
COMMENT ON FUNCTION payments.currency_lt(payments.currency, payments.currency) IS 'orders by code, then scale';
COMMENT ON FUNCTION payments.currency_le(payments.currency, payments.currency) IS 'orders by code, then scale';
COMMENT ON FUNCTION payments.currency_gt(payments.currency, payments.currency) IS 'orders by code, then scale';
COMMENT ON FUNCTION payments.currency_ge(payments.currency, payments.currency) IS 'orders by code, then scale';
COMMENT ON FUNCTION payments.currency_cmp(payments.currency, payments.currency) IS 'btree support: orders by code, then scale';
COMMENT ON FUNCTION payments.currency_hash(payments.currency) IS 'hash support';
COMMENT ON FUNCTION payments.currency_hash_extended(payments.currency, bigint) IS 'hash support with a seed, for hash partitioning';

CREATE OPERATOR payments.= (
    LEFTARG = payments.currency, RIGHTARG = payments.currency,
    FUNCTION = payments.currency_eq, COMMUTATOR = OPERATOR(payments.=),
    NEGATOR = OPERATOR(payments.<>), RESTRICT = eqsel, JOIN = eqjoinsel,
    HASHES, MERGES);
CREATE OPERATOR payments.<> (
    LEFTARG = payments.currency, RIGHTARG = payments.currency,
    FUNCTION = payments.currency_ne, COMMUTATOR = OPERATOR(payments.<>),
    NEGATOR = OPERATOR(payments.=), RESTRICT = neqsel, JOIN = neqjoinsel);
CREATE OPERATOR payments.< (
    LEFTARG = payments.currency, RIGHTARG = payments.currency,
    FUNCTION = payments.currency_lt, COMMUTATOR = OPERATOR(payments.>),
    NEGATOR = OPERATOR(payments.>=), RESTRICT = scalarltsel, JOIN = scalarltjoinsel);
CREATE OPERATOR payments.<= (
    LEFTARG = payments.currency, RIGHTARG = payments.currency,
    FUNCTION = payments.currency_le, COMMUTATOR = OPERATOR(payments.>=),
    NEGATOR = OPERATOR(payments.>), RESTRICT = scalarlesel, JOIN = scalarlejoinsel);
CREATE OPERATOR payments.> (
    LEFTARG = payments.currency, RIGHTARG = payments.currency,
    FUNCTION = payments.currency_gt, COMMUTATOR = OPERATOR(payments.<),
    NEGATOR = OPERATOR(payments.<=), RESTRICT = scalargtsel, JOIN = scalargtjoinsel);
CREATE OPERATOR payments.>= (
    LEFTARG = payments.currency, RIGHTARG = payments.currency,
    FUNCTION = payments.currency_ge, COMMUTATOR = OPERATOR(payments.<=),
    NEGATOR = OPERATOR(payments.<), RESTRICT = scalargesel, JOIN = scalargejoinsel);

COMMENT ON OPERATOR payments.= (payments.currency, payments.currency) IS 'same code and scale';
COMMENT ON OPERATOR payments.<> (payments.currency, payments.currency) IS 'different code or scale';
COMMENT ON OPERATOR payments.< (payments.currency, payments.currency) IS 'orders by code, then scale';
COMMENT ON OPERATOR payments.<= (payments.currency, payments.currency) IS 'orders by code, then scale';
COMMENT ON OPERATOR payments.> (payments.currency, payments.currency) IS 'orders by code, then scale';
COMMENT ON OPERATOR payments.>= (payments.currency, payments.currency) IS 'orders by code, then scale';

CREATE OPERATOR CLASS payments.currency_ops
    DEFAULT FOR TYPE payments.currency USING btree AS
        OPERATOR 1 payments.<,
        OPERATOR 2 payments.<=,
        OPERATOR 3 payments.=,
        OPERATOR 4 payments.>=,
        OPERATOR 5 payments.>,
        FUNCTION 1 payments.currency_cmp(payments.currency, payments.currency);
CREATE OPERATOR CLASS payments.currency_hash_ops
    DEFAULT FOR TYPE payments.currency USING hash AS
        OPERATOR 1 payments.=,
        FUNCTION 1 payments.currency_hash(payments.currency),
        FUNCTION 2 payments.currency_hash_extended(payments.currency, bigint);
COMMENT ON OPERATOR CLASS payments.currency_ops USING btree IS 'orders currencies by code, then scale';
COMMENT ON OPERATOR CLASS payments.currency_hash_ops USING hash IS 'hashes currencies, for hash joins, aggregation and partitioning';

CREATE FUNCTION payments.minor_units(payments.currency) RETURNS integer
    AS 'MODULE_PATHNAME', 'currency_minor_units' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION payments.minor_units(payments.currency) IS
    'the number of decimal places of the currency''s minor unit (its scale)';

-- rounding_mode ----------------------------------------------------------

CREATE TYPE payments.rounding_mode AS ENUM (
    'half_even', 'half_up', 'half_down', 'up', 'down', 'ceiling', 'floor', 'unnecessary');
COMMENT ON TYPE payments.rounding_mode IS
    'how to round: half_even, half_up (half away from zero), half_down (half toward zero), up (away from zero), down (toward zero), ceiling, floor, unnecessary (raise if inexact)';

-- monetary ---------------------------------------------------------------

CREATE TYPE payments.monetary;

CREATE FUNCTION payments.monetary_in(cstring) RETURNS payments.monetary
    AS 'MODULE_PATHNAME', 'monetary_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION payments.monetary_out(payments.monetary) RETURNS cstring
    AS 'MODULE_PATHNAME', 'monetary_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION payments.monetary_recv(internal) RETURNS payments.monetary
    AS 'MODULE_PATHNAME', 'monetary_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION payments.monetary_send(payments.monetary) RETURNS bytea
    AS 'MODULE_PATHNAME', 'monetary_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE payments.monetary (
    INPUT = payments.monetary_in,
    OUTPUT = payments.monetary_out,
    RECEIVE = payments.monetary_recv,
    SEND = payments.monetary_send,
    INTERNALLENGTH = 24,
    ALIGNMENT = double,
    STORAGE = plain
);
COMMENT ON TYPE payments.monetary IS
    'an exact amount of one currency, counted in its minor units (128-bit): ''12.34 USD''';

COMMENT ON FUNCTION payments.monetary_in(cstring) IS 'reads ''12.34 USD'' or ''USD 12.34''; never rounds';
COMMENT ON FUNCTION payments.monetary_out(payments.monetary) IS 'writes the amount with exactly the currency''s decimals, then the currency';
COMMENT ON FUNCTION payments.monetary_recv(internal) IS 'reads a monetary in binary form';
COMMENT ON FUNCTION payments.monetary_send(payments.monetary) IS 'writes a monetary in binary form';

-- constructors and accessors
CREATE FUNCTION payments.monetary(numeric, payments.currency) RETURNS payments.monetary
    AS 'MODULE_PATHNAME', 'monetary_from_numeric' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION payments.monetary(numeric, payments.currency, payments.rounding_mode) RETURNS payments.monetary
    AS 'MODULE_PATHNAME', 'monetary_from_numeric_rounded' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION payments.amount(payments.monetary) RETURNS numeric
    AS 'MODULE_PATHNAME', 'monetary_amount' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION payments.currency(payments.monetary) RETURNS payments.currency
    AS 'MODULE_PATHNAME', 'monetary_currency' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION payments.minor_units(payments.monetary) RETURNS numeric
    AS 'MODULE_PATHNAME', 'monetary_minor_units' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION payments.monetary(numeric, payments.currency) IS
    'an amount from a number; an error if it is not a whole number of minor units';
COMMENT ON FUNCTION payments.monetary(numeric, payments.currency, payments.rounding_mode) IS
    'an amount from a number, rounded once to the currency''s minor unit';
COMMENT ON FUNCTION payments.amount(payments.monetary) IS 'the amount as numeric, at the currency''s scale';
COMMENT ON FUNCTION payments.currency(payments.monetary) IS 'the amount''s currency';
COMMENT ON FUNCTION payments.minor_units(payments.monetary) IS 'the integer count of minor units';

-- arithmetic
CREATE FUNCTION payments.monetary_add(payments.monetary, payments.monetary) RETURNS payments.monetary
    AS 'MODULE_PATHNAME', 'monetary_add' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION payments.monetary_sub(payments.monetary, payments.monetary) RETURNS payments.monetary
    AS 'MODULE_PATHNAME', 'monetary_sub' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION payments.monetary_neg(payments.monetary) RETURNS payments.monetary
    AS 'MODULE_PATHNAME', 'monetary_neg' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION payments.monetary_mul_numeric(payments.monetary, numeric) RETURNS payments.monetary
    AS 'MODULE_PATHNAME', 'monetary_mul_numeric' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION payments.numeric_mul_monetary(numeric, payments.monetary) RETURNS payments.monetary
    AS 'MODULE_PATHNAME', 'numeric_mul_monetary' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION payments.monetary_mul_int8(payments.monetary, bigint) RETURNS payments.monetary
    AS 'MODULE_PATHNAME', 'monetary_mul_int8' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION payments.int8_mul_monetary(bigint, payments.monetary) RETURNS payments.monetary
    AS 'MODULE_PATHNAME', 'int8_mul_monetary' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION payments.monetary_mul_int4(payments.monetary, integer) RETURNS payments.monetary
    AS 'MODULE_PATHNAME', 'monetary_mul_int4' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION payments.int4_mul_monetary(integer, payments.monetary) RETURNS payments.monetary
    AS 'MODULE_PATHNAME', 'int4_mul_monetary' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION payments.monetary_div_int4(payments.monetary, integer) RETURNS payments.monetary
    AS 'MODULE_PATHNAME', 'monetary_div_int4' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION payments.monetary_div_numeric(payments.monetary, numeric) RETURNS payments.monetary
    AS 'MODULE_PATHNAME', 'monetary_div_numeric' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION payments.monetary_div_int8(payments.monetary, bigint) RETURNS payments.monetary
    AS 'MODULE_PATHNAME', 'monetary_div_int8' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION payments.monetary_div_monetary(payments.monetary, payments.monetary) RETURNS numeric
    AS 'MODULE_PATHNAME', 'monetary_div_monetary' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION payments.monetary_add(payments.monetary, payments.monetary) IS 'sum of two amounts of one currency';
COMMENT ON FUNCTION payments.monetary_sub(payments.monetary, payments.monetary) IS 'difference of two amounts of one currency';
COMMENT ON FUNCTION payments.monetary_neg(payments.monetary) IS 'the amount negated';
COMMENT ON FUNCTION payments.monetary_mul_numeric(payments.monetary, numeric) IS 'exact product; an error if it needs rounding';
COMMENT ON FUNCTION payments.numeric_mul_monetary(numeric, payments.monetary) IS 'exact product; an error if it needs rounding';
COMMENT ON FUNCTION payments.monetary_mul_int8(payments.monetary, bigint) IS 'exact product';
COMMENT ON FUNCTION payments.int8_mul_monetary(bigint, payments.monetary) IS 'exact product';
COMMENT ON FUNCTION payments.monetary_mul_int4(payments.monetary, integer) IS 'exact product';
COMMENT ON FUNCTION payments.int4_mul_monetary(integer, payments.monetary) IS 'exact product';
COMMENT ON FUNCTION payments.monetary_div_int4(payments.monetary, integer) IS 'exact quotient; an error if it needs rounding';
COMMENT ON FUNCTION payments.monetary_div_numeric(payments.monetary, numeric) IS 'exact quotient; an error if it needs rounding';
COMMENT ON FUNCTION payments.monetary_div_int8(payments.monetary, bigint) IS 'exact quotient; an error if it needs rounding';
COMMENT ON FUNCTION payments.monetary_div_monetary(payments.monetary, payments.monetary) IS 'the ratio of two amounts of one currency';

CREATE OPERATOR payments.+ (LEFTARG = payments.monetary, RIGHTARG = payments.monetary,
    FUNCTION = payments.monetary_add, COMMUTATOR = OPERATOR(payments.+));
CREATE OPERATOR payments.- (LEFTARG = payments.monetary, RIGHTARG = payments.monetary,
    FUNCTION = payments.monetary_sub);
CREATE OPERATOR payments.- (RIGHTARG = payments.monetary, FUNCTION = payments.monetary_neg);
CREATE OPERATOR payments.* (LEFTARG = payments.monetary, RIGHTARG = numeric,
    FUNCTION = payments.monetary_mul_numeric, COMMUTATOR = OPERATOR(payments.*));
CREATE OPERATOR payments.* (LEFTARG = numeric, RIGHTARG = payments.monetary,
    FUNCTION = payments.numeric_mul_monetary, COMMUTATOR = OPERATOR(payments.*));
CREATE OPERATOR payments.* (LEFTARG = payments.monetary, RIGHTARG = bigint,
    FUNCTION = payments.monetary_mul_int8, COMMUTATOR = OPERATOR(payments.*));
CREATE OPERATOR payments.* (LEFTARG = bigint, RIGHTARG = payments.monetary,
    FUNCTION = payments.int8_mul_monetary, COMMUTATOR = OPERATOR(payments.*));
-- integer forms too: with only bigint and numeric, amount * 3 is ambiguous
CREATE OPERATOR payments.* (LEFTARG = payments.monetary, RIGHTARG = integer,
    FUNCTION = payments.monetary_mul_int4, COMMUTATOR = OPERATOR(payments.*));
CREATE OPERATOR payments.* (LEFTARG = integer, RIGHTARG = payments.monetary,
    FUNCTION = payments.int4_mul_monetary, COMMUTATOR = OPERATOR(payments.*));
CREATE OPERATOR payments./ (LEFTARG = payments.monetary, RIGHTARG = integer,
    FUNCTION = payments.monetary_div_int4);
CREATE OPERATOR payments./ (LEFTARG = payments.monetary, RIGHTARG = numeric,
    FUNCTION = payments.monetary_div_numeric);
CREATE OPERATOR payments./ (LEFTARG = payments.monetary, RIGHTARG = bigint,
    FUNCTION = payments.monetary_div_int8);
CREATE OPERATOR payments./ (LEFTARG = payments.monetary, RIGHTARG = payments.monetary,
    FUNCTION = payments.monetary_div_monetary);

-- explicit rounding
CREATE FUNCTION payments.mul(payments.monetary, numeric, payments.rounding_mode) RETURNS payments.monetary
    AS 'MODULE_PATHNAME', 'monetary_mul_rounded' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION payments.div(payments.monetary, numeric, payments.rounding_mode) RETURNS payments.monetary
    AS 'MODULE_PATHNAME', 'monetary_div_rounded' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION payments.rescale(payments.monetary, scale integer,
        rounding_mode payments.rounding_mode DEFAULT 'half_even') RETURNS payments.monetary
    AS 'MODULE_PATHNAME', 'monetary_rescale' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION payments.round(payments.monetary, increment payments.monetary,
        rounding_mode payments.rounding_mode) RETURNS payments.monetary
    AS 'MODULE_PATHNAME', 'monetary_round' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION payments.mul(payments.monetary, numeric, payments.rounding_mode) IS
    'product rounded once to a minor unit';
COMMENT ON FUNCTION payments.div(payments.monetary, numeric, payments.rounding_mode) IS
    'quotient rounded once to a minor unit';
COMMENT ON FUNCTION payments.rescale(payments.monetary, integer, payments.rounding_mode) IS
    'the amount in the same code at another scale (USD to USD/4), rounded if it must';
COMMENT ON FUNCTION payments.round(payments.monetary, payments.monetary, payments.rounding_mode) IS
    'rounds to a whole multiple of a cash increment (CHF to 0.05)';

-- allocation
CREATE FUNCTION payments.allocate(payments.monetary, ratios numeric[]) RETURNS payments.monetary[]
    AS 'MODULE_PATHNAME', 'monetary_allocate' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION payments.split(payments.monetary, parts integer) RETURNS payments.monetary[]
    AS 'MODULE_PATHNAME', 'monetary_split' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION payments.allocate(payments.monetary, numeric[]) IS
    'splits by ratios; the parts sum exactly to the whole (largest remainder, ties to the earlier part)';
COMMENT ON FUNCTION payments.split(payments.monetary, integer) IS
    'splits into n parts as equal as minor units allow; the earlier parts get the odd units';

-- comparison: = and <> never raise; < <= > >= refuse mixed currencies
CREATE FUNCTION payments.monetary_eq(payments.monetary, payments.monetary) RETURNS boolean
    AS 'MODULE_PATHNAME', 'monetary_eq' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION payments.monetary_ne(payments.monetary, payments.monetary) RETURNS boolean
    AS 'MODULE_PATHNAME', 'monetary_ne' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION payments.monetary_lt(payments.monetary, payments.monetary) RETURNS boolean
    AS 'MODULE_PATHNAME', 'monetary_lt' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION payments.monetary_le(payments.monetary, payments.monetary) RETURNS boolean
    AS 'MODULE_PATHNAME', 'monetary_le' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION payments.monetary_gt(payments.monetary, payments.monetary) RETURNS boolean
    AS 'MODULE_PATHNAME', 'monetary_gt' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION payments.monetary_ge(payments.monetary, payments.monetary) RETURNS boolean
    AS 'MODULE_PATHNAME', 'monetary_ge' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION payments.monetary_total_lt(payments.monetary, payments.monetary) RETURNS boolean
    AS 'MODULE_PATHNAME', 'monetary_total_lt' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION payments.monetary_total_le(payments.monetary, payments.monetary) RETURNS boolean
    AS 'MODULE_PATHNAME', 'monetary_total_le' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION payments.monetary_total_gt(payments.monetary, payments.monetary) RETURNS boolean
    AS 'MODULE_PATHNAME', 'monetary_total_gt' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION payments.monetary_total_ge(payments.monetary, payments.monetary) RETURNS boolean
    AS 'MODULE_PATHNAME', 'monetary_total_ge' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION payments.monetary_total_cmp(payments.monetary, payments.monetary) RETURNS integer
    AS 'MODULE_PATHNAME', 'monetary_total_cmp' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION payments.monetary_hash(payments.monetary) RETURNS integer
    AS 'MODULE_PATHNAME', 'monetary_hash' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION payments.monetary_hash_extended(payments.monetary, bigint) RETURNS bigint
    AS 'MODULE_PATHNAME', 'monetary_hash_extended' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
COMMENT ON FUNCTION payments.monetary_eq(payments.monetary, payments.monetary) IS 'same currency and amount; never raises';
COMMENT ON FUNCTION payments.monetary_ne(payments.monetary, payments.monetary) IS 'different currency or amount; never raises';
COMMENT ON FUNCTION payments.monetary_lt(payments.monetary, payments.monetary) IS 'less than; raises on a currency mismatch';
COMMENT ON FUNCTION payments.monetary_le(payments.monetary, payments.monetary) IS 'at most; raises on a currency mismatch';
COMMENT ON FUNCTION payments.monetary_gt(payments.monetary, payments.monetary) IS 'greater than; raises on a currency mismatch';
COMMENT ON FUNCTION payments.monetary_ge(payments.monetary, payments.monetary) IS 'at least; raises on a currency mismatch';
COMMENT ON FUNCTION payments.monetary_total_lt(payments.monetary, payments.monetary) IS 'total order (currency, then amount): before';
COMMENT ON FUNCTION payments.monetary_total_le(payments.monetary, payments.monetary) IS 'total order (currency, then amount): not after';
COMMENT ON FUNCTION payments.monetary_total_gt(payments.monetary, payments.monetary) IS 'total order (currency, then amount): after';
COMMENT ON FUNCTION payments.monetary_total_ge(payments.monetary, payments.monetary) IS 'total order (currency, then amount): not before';
COMMENT ON FUNCTION payments.monetary_total_cmp(payments.monetary, payments.monetary) IS 'btree support: total order, currency then amount';
COMMENT ON FUNCTION payments.monetary_hash(payments.monetary) IS 'hash support';
COMMENT ON FUNCTION payments.monetary_hash_extended(payments.monetary, bigint) IS 'hash support with a seed, for hash partitioning';

CREATE OPERATOR payments.= (
    LEFTARG = payments.monetary, RIGHTARG = payments.monetary,
    FUNCTION = payments.monetary_eq, COMMUTATOR = OPERATOR(payments.=),
    NEGATOR = OPERATOR(payments.<>), RESTRICT = eqsel, JOIN = eqjoinsel,
    HASHES, MERGES);
CREATE OPERATOR payments.<> (
    LEFTARG = payments.monetary, RIGHTARG = payments.monetary,
    FUNCTION = payments.monetary_ne, COMMUTATOR = OPERATOR(payments.<>),
    NEGATOR = OPERATOR(payments.=), RESTRICT = neqsel, JOIN = neqjoinsel);
CREATE OPERATOR payments.< (
    LEFTARG = payments.monetary, RIGHTARG = payments.monetary,
    FUNCTION = payments.monetary_lt, COMMUTATOR = OPERATOR(payments.>),
    NEGATOR = OPERATOR(payments.>=), RESTRICT = scalarltsel, JOIN = scalarltjoinsel);
CREATE OPERATOR payments.<= (
    LEFTARG = payments.monetary, RIGHTARG = payments.monetary,
    FUNCTION = payments.monetary_le, COMMUTATOR = OPERATOR(payments.>=),
    NEGATOR = OPERATOR(payments.>), RESTRICT = scalarlesel, JOIN = scalarlejoinsel);
CREATE OPERATOR payments.> (
    LEFTARG = payments.monetary, RIGHTARG = payments.monetary,
    FUNCTION = payments.monetary_gt, COMMUTATOR = OPERATOR(payments.<),
    NEGATOR = OPERATOR(payments.<=), RESTRICT = scalargtsel, JOIN = scalargtjoinsel);
CREATE OPERATOR payments.>= (
    LEFTARG = payments.monetary, RIGHTARG = payments.monetary,
    FUNCTION = payments.monetary_ge, COMMUTATOR = OPERATOR(payments.<=),
    NEGATOR = OPERATOR(payments.<), RESTRICT = scalargesel, JOIN = scalargejoinsel);
CREATE OPERATOR payments.~<~ (
    LEFTARG = payments.monetary, RIGHTARG = payments.monetary,
    FUNCTION = payments.monetary_total_lt, COMMUTATOR = OPERATOR(payments.~>~),
    NEGATOR = OPERATOR(payments.~>=~), RESTRICT = scalarltsel, JOIN = scalarltjoinsel);
CREATE OPERATOR payments.~<=~ (
    LEFTARG = payments.monetary, RIGHTARG = payments.monetary,
    FUNCTION = payments.monetary_total_le, COMMUTATOR = OPERATOR(payments.~>=~),
    NEGATOR = OPERATOR(payments.~>~), RESTRICT = scalarlesel, JOIN = scalarlejoinsel);
CREATE OPERATOR payments.~>~ (
    LEFTARG = payments.monetary, RIGHTARG = payments.monetary,
    FUNCTION = payments.monetary_total_gt, COMMUTATOR = OPERATOR(payments.~<~),
    NEGATOR = OPERATOR(payments.~<=~), RESTRICT = scalargtsel, JOIN = scalargtjoinsel);
CREATE OPERATOR payments.~>=~ (
    LEFTARG = payments.monetary, RIGHTARG = payments.monetary,
    FUNCTION = payments.monetary_total_ge, COMMUTATOR = OPERATOR(payments.~<=~),
    NEGATOR = OPERATOR(payments.~<~), RESTRICT = scalargesel, JOIN = scalargejoinsel);

COMMENT ON OPERATOR payments.+ (payments.monetary, payments.monetary) IS 'sum of two amounts of one currency';
COMMENT ON OPERATOR payments.- (payments.monetary, payments.monetary) IS 'difference of two amounts of one currency';
COMMENT ON OPERATOR payments.- (NONE, payments.monetary) IS 'the amount negated';
COMMENT ON OPERATOR payments.* (payments.monetary, numeric) IS 'exact product; an error if it needs rounding';
COMMENT ON OPERATOR payments.* (numeric, payments.monetary) IS 'exact product; an error if it needs rounding';
COMMENT ON OPERATOR payments.* (payments.monetary, bigint) IS 'exact product';
COMMENT ON OPERATOR payments.* (bigint, payments.monetary) IS 'exact product';
COMMENT ON OPERATOR payments.* (payments.monetary, integer) IS 'exact product';
COMMENT ON OPERATOR payments.* (integer, payments.monetary) IS 'exact product';
COMMENT ON OPERATOR payments./ (payments.monetary, integer) IS 'exact quotient; an error if it needs rounding';
COMMENT ON OPERATOR payments./ (payments.monetary, numeric) IS 'exact quotient; an error if it needs rounding';
COMMENT ON OPERATOR payments./ (payments.monetary, bigint) IS 'exact quotient; an error if it needs rounding';
COMMENT ON OPERATOR payments./ (payments.monetary, payments.monetary) IS 'the ratio of two amounts of one currency';
COMMENT ON OPERATOR payments.= (payments.monetary, payments.monetary) IS 'same currency and amount; never raises';
COMMENT ON OPERATOR payments.<> (payments.monetary, payments.monetary) IS 'different currency or amount; never raises';
COMMENT ON OPERATOR payments.< (payments.monetary, payments.monetary) IS 'less than; raises on a currency mismatch';
COMMENT ON OPERATOR payments.<= (payments.monetary, payments.monetary) IS 'at most; raises on a currency mismatch';
COMMENT ON OPERATOR payments.> (payments.monetary, payments.monetary) IS 'greater than; raises on a currency mismatch';
COMMENT ON OPERATOR payments.>= (payments.monetary, payments.monetary) IS 'at least; raises on a currency mismatch';
COMMENT ON OPERATOR payments.~<~ (payments.monetary, payments.monetary) IS 'total order (currency, then amount): before';
COMMENT ON OPERATOR payments.~<=~ (payments.monetary, payments.monetary) IS 'total order (currency, then amount): not after';
COMMENT ON OPERATOR payments.~>~ (payments.monetary, payments.monetary) IS 'total order (currency, then amount): after';
COMMENT ON OPERATOR payments.~>=~ (payments.monetary, payments.monetary) IS 'total order (currency, then amount): not before';

-- The default opclasses use the total order, so that sorting, grouping,
-- DISTINCT, UNIQUE and merge joins work on mixed-currency columns.
CREATE OPERATOR CLASS payments.monetary_ops
    DEFAULT FOR TYPE payments.monetary USING btree AS
        OPERATOR 1 payments.~<~,
        OPERATOR 2 payments.~<=~,
        OPERATOR 3 payments.=,
        OPERATOR 4 payments.~>=~,
        OPERATOR 5 payments.~>~,
        FUNCTION 1 payments.monetary_total_cmp(payments.monetary, payments.monetary);
CREATE OPERATOR CLASS payments.monetary_hash_ops
    DEFAULT FOR TYPE payments.monetary USING hash AS
        OPERATOR 1 payments.=,
        FUNCTION 1 payments.monetary_hash(payments.monetary),
        FUNCTION 2 payments.monetary_hash_extended(payments.monetary, bigint);
COMMENT ON OPERATOR CLASS payments.monetary_ops USING btree IS
    'a total order, currency first and then amount, so that sorting and grouping work on mixed currencies';
COMMENT ON OPERATOR CLASS payments.monetary_hash_ops USING hash IS
    'hashes amounts with their currency, for hash joins, aggregation and partitioning';

-- aggregates -------------------------------------------------------------

CREATE FUNCTION payments.monetary_sum_accum(internal, payments.monetary) RETURNS internal
    AS 'MODULE_PATHNAME', 'monetary_sum_accum' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION payments.monetary_sum_combine(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'monetary_sum_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION payments.monetary_sum_serialize(internal) RETURNS bytea
    AS 'MODULE_PATHNAME', 'monetary_sum_serialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION payments.monetary_sum_deserialize(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'monetary_sum_deserialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION payments.monetary_sum_final(internal) RETURNS payments.monetary
    AS 'MODULE_PATHNAME', 'monetary_sum_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION payments.monetary_avg_final(internal) RETURNS payments.monetary
    AS 'MODULE_PATHNAME', 'monetary_avg_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION payments.monetary_smaller(payments.monetary, payments.monetary) RETURNS payments.monetary
    AS 'MODULE_PATHNAME', 'monetary_smaller' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION payments.monetary_larger(payments.monetary, payments.monetary) RETURNS payments.monetary
    AS 'MODULE_PATHNAME', 'monetary_larger' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION payments.monetary_sum_accum(internal, payments.monetary) IS 'sum/avg transition: adds one amount';
COMMENT ON FUNCTION payments.monetary_sum_combine(internal, internal) IS 'sum/avg: merges two partial states';
COMMENT ON FUNCTION payments.monetary_sum_serialize(internal) IS 'sum/avg: state to bytes, for parallel workers';
COMMENT ON FUNCTION payments.monetary_sum_deserialize(bytea, internal) IS 'sum/avg: state from bytes, for parallel workers';
COMMENT ON FUNCTION payments.monetary_sum_final(internal) IS 'sum: the exact total';
COMMENT ON FUNCTION payments.monetary_avg_final(internal) IS 'avg: the mean, rounded half-even';
COMMENT ON FUNCTION payments.monetary_smaller(payments.monetary, payments.monetary) IS 'the smaller amount; raises on a currency mismatch';
COMMENT ON FUNCTION payments.monetary_larger(payments.monetary, payments.monetary) IS 'the larger amount; raises on a currency mismatch';

CREATE AGGREGATE payments.sum(payments.monetary) (
    SFUNC = payments.monetary_sum_accum,
    STYPE = internal,
    SSPACE = 48,
    FINALFUNC = payments.monetary_sum_final,
    COMBINEFUNC = payments.monetary_sum_combine,
    SERIALFUNC = payments.monetary_sum_serialize,
    DESERIALFUNC = payments.monetary_sum_deserialize,
    PARALLEL = SAFE
);
CREATE AGGREGATE payments.avg(payments.monetary) (
    SFUNC = payments.monetary_sum_accum,
    STYPE = internal,
    SSPACE = 48,
    FINALFUNC = payments.monetary_avg_final,
    COMBINEFUNC = payments.monetary_sum_combine,
    SERIALFUNC = payments.monetary_sum_serialize,
    DESERIALFUNC = payments.monetary_sum_deserialize,
    PARALLEL = SAFE
);
CREATE AGGREGATE payments.min(payments.monetary) (
    SFUNC = payments.monetary_smaller,
    STYPE = payments.monetary,
    COMBINEFUNC = payments.monetary_smaller,
    PARALLEL = SAFE
);
CREATE AGGREGATE payments.max(payments.monetary) (
    SFUNC = payments.monetary_larger,
    STYPE = payments.monetary,
    COMBINEFUNC = payments.monetary_larger,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE payments.sum(payments.monetary) IS 'exact total; mixing currencies in one group is an error';
COMMENT ON AGGREGATE payments.avg(payments.monetary) IS 'mean rounded half-even to a minor unit; mixing currencies is an error';
COMMENT ON AGGREGATE payments.min(payments.monetary) IS 'smallest amount; mixing currencies is an error';
COMMENT ON AGGREGATE payments.max(payments.monetary) IS 'largest amount; mixing currencies is an error';
