-- Money: the currency and monetary types, rounding, allocation, aggregates.
-- Every function here is pure: IMMUTABLE STRICT PARALLEL SAFE, except the
-- aggregates' internal-state helpers, which are not STRICT.

-- currency ---------------------------------------------------------------

CREATE TYPE currency;

CREATE FUNCTION currency_in(cstring) RETURNS currency
    AS 'MODULE_PATHNAME', 'currency_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION currency_out(currency) RETURNS cstring
    AS 'MODULE_PATHNAME', 'currency_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION currency_recv(internal) RETURNS currency
    AS 'MODULE_PATHNAME', 'currency_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION currency_send(currency) RETURNS bytea
    AS 'MODULE_PATHNAME', 'currency_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE currency (
    INPUT = currency_in,
    OUTPUT = currency_out,
    RECEIVE = currency_recv,
    SEND = currency_send,
    INTERNALLENGTH = 8,
    PASSEDBYVALUE,
    ALIGNMENT = double,
    STORAGE = plain
);
COMMENT ON TYPE currency IS
    'an asset: an ISO 4217 code at its own scale (USD), or CODE/SCALE (ETH/18, USD/4)';

CREATE FUNCTION currency_eq(currency, currency) RETURNS boolean
    AS 'MODULE_PATHNAME', 'currency_eq' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION currency_ne(currency, currency) RETURNS boolean
    AS 'MODULE_PATHNAME', 'currency_ne' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION currency_lt(currency, currency) RETURNS boolean
    AS 'MODULE_PATHNAME', 'currency_lt' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION currency_le(currency, currency) RETURNS boolean
    AS 'MODULE_PATHNAME', 'currency_le' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION currency_gt(currency, currency) RETURNS boolean
    AS 'MODULE_PATHNAME', 'currency_gt' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION currency_ge(currency, currency) RETURNS boolean
    AS 'MODULE_PATHNAME', 'currency_ge' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION currency_cmp(currency, currency) RETURNS integer
    AS 'MODULE_PATHNAME', 'currency_cmp' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION currency_hash(currency) RETURNS integer
    AS 'MODULE_PATHNAME', 'currency_hash' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION currency_hash_extended(currency, bigint) RETURNS bigint
    AS 'MODULE_PATHNAME', 'currency_hash_extended' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;

COMMENT ON FUNCTION currency_in(cstring) IS 'reads a currency from text';
COMMENT ON FUNCTION currency_out(currency) IS 'writes a currency as text';
COMMENT ON FUNCTION currency_recv(internal) IS 'reads a currency in binary form';
COMMENT ON FUNCTION currency_send(currency) IS 'writes a currency in binary form';
COMMENT ON FUNCTION currency_eq(currency, currency) IS 'same code and scale';
COMMENT ON FUNCTION currency_ne(currency, currency) IS 'different code or scale';
COMMENT ON FUNCTION currency_lt(currency, currency) IS 'orders by code, then scale';
COMMENT ON FUNCTION currency_le(currency, currency) IS 'orders by code, then scale';
COMMENT ON FUNCTION currency_gt(currency, currency) IS 'orders by code, then scale';
COMMENT ON FUNCTION currency_ge(currency, currency) IS 'orders by code, then scale';
COMMENT ON FUNCTION currency_cmp(currency, currency) IS 'btree support: orders by code, then scale';
COMMENT ON FUNCTION currency_hash(currency) IS 'hash support';
COMMENT ON FUNCTION currency_hash_extended(currency, bigint) IS 'hash support with a seed, for hash partitioning';

CREATE OPERATOR = (
    LEFTARG = currency, RIGHTARG = currency,
    FUNCTION = currency_eq, COMMUTATOR = '=',
    NEGATOR = '<>', RESTRICT = eqsel, JOIN = eqjoinsel,
    HASHES, MERGES);
CREATE OPERATOR <> (
    LEFTARG = currency, RIGHTARG = currency,
    FUNCTION = currency_ne, COMMUTATOR = '<>',
    NEGATOR = '=', RESTRICT = neqsel, JOIN = neqjoinsel);
CREATE OPERATOR < (
    LEFTARG = currency, RIGHTARG = currency,
    FUNCTION = currency_lt, COMMUTATOR = '>',
    NEGATOR = '>=', RESTRICT = scalarltsel, JOIN = scalarltjoinsel);
CREATE OPERATOR <= (
    LEFTARG = currency, RIGHTARG = currency,
    FUNCTION = currency_le, COMMUTATOR = '>=',
    NEGATOR = '>', RESTRICT = scalarlesel, JOIN = scalarlejoinsel);
CREATE OPERATOR > (
    LEFTARG = currency, RIGHTARG = currency,
    FUNCTION = currency_gt, COMMUTATOR = '<',
    NEGATOR = '<=', RESTRICT = scalargtsel, JOIN = scalargtjoinsel);
CREATE OPERATOR >= (
    LEFTARG = currency, RIGHTARG = currency,
    FUNCTION = currency_ge, COMMUTATOR = '<=',
    NEGATOR = '<', RESTRICT = scalargesel, JOIN = scalargejoinsel);

COMMENT ON OPERATOR = (currency, currency) IS 'same code and scale';
COMMENT ON OPERATOR <> (currency, currency) IS 'different code or scale';
COMMENT ON OPERATOR < (currency, currency) IS 'orders by code, then scale';
COMMENT ON OPERATOR <= (currency, currency) IS 'orders by code, then scale';
COMMENT ON OPERATOR > (currency, currency) IS 'orders by code, then scale';
COMMENT ON OPERATOR >= (currency, currency) IS 'orders by code, then scale';

CREATE OPERATOR CLASS currency_ops
    DEFAULT FOR TYPE currency USING btree AS
        OPERATOR 1 <,
        OPERATOR 2 <=,
        OPERATOR 3 =,
        OPERATOR 4 >=,
        OPERATOR 5 >,
        FUNCTION 1 currency_cmp(currency, currency);
CREATE OPERATOR CLASS currency_hash_ops
    DEFAULT FOR TYPE currency USING hash AS
        OPERATOR 1 =,
        FUNCTION 1 currency_hash(currency),
        FUNCTION 2 currency_hash_extended(currency, bigint);
COMMENT ON OPERATOR CLASS currency_ops USING btree IS 'orders currencies by code, then scale';
COMMENT ON OPERATOR CLASS currency_hash_ops USING hash IS 'hashes currencies, for hash joins, aggregation and partitioning';

CREATE FUNCTION scale(currency) RETURNS integer
    AS 'MODULE_PATHNAME', 'currency_get_scale' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scale(currency) IS
    'the number of decimal places of the currency''s minor unit (its scale)';

-- rounding_mode ----------------------------------------------------------

CREATE TYPE rounding_mode AS ENUM (
    'half_even', 'half_up', 'half_down', 'up', 'down', 'ceiling', 'floor', 'unnecessary');
COMMENT ON TYPE rounding_mode IS
    'how to round: half_even, half_up (half away from zero), half_down (half toward zero), up (away from zero), down (toward zero), ceiling, floor, unnecessary (raise if inexact)';

-- monetary ---------------------------------------------------------------

CREATE TYPE monetary;

CREATE FUNCTION monetary_in(cstring) RETURNS monetary
    AS 'MODULE_PATHNAME', 'monetary_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION monetary_out(monetary) RETURNS cstring
    AS 'MODULE_PATHNAME', 'monetary_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION monetary_recv(internal) RETURNS monetary
    AS 'MODULE_PATHNAME', 'monetary_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION monetary_send(monetary) RETURNS bytea
    AS 'MODULE_PATHNAME', 'monetary_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE monetary (
    INPUT = monetary_in,
    OUTPUT = monetary_out,
    RECEIVE = monetary_recv,
    SEND = monetary_send,
    INTERNALLENGTH = 24,
    ALIGNMENT = double,
    STORAGE = plain
);
COMMENT ON TYPE monetary IS
    'an exact amount of one currency, counted in its minor units (128-bit): ''12.34 USD''';

COMMENT ON FUNCTION monetary_in(cstring) IS 'reads ''12.34 USD'' or ''USD 12.34''; never rounds';
COMMENT ON FUNCTION monetary_out(monetary) IS 'writes the amount with exactly the currency''s decimals, then the currency';
COMMENT ON FUNCTION monetary_recv(internal) IS 'reads a monetary in binary form';
COMMENT ON FUNCTION monetary_send(monetary) IS 'writes a monetary in binary form';

-- constructors and accessors
CREATE FUNCTION monetary(numeric, currency) RETURNS monetary
    AS 'MODULE_PATHNAME', 'monetary_from_numeric' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION monetary(numeric, currency, rounding_mode) RETURNS monetary
    AS 'MODULE_PATHNAME', 'monetary_from_numeric_rounded' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION amount(monetary) RETURNS numeric
    AS 'MODULE_PATHNAME', 'monetary_amount' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION currency(monetary) RETURNS currency
    AS 'MODULE_PATHNAME', 'monetary_currency' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION minor_units(monetary) RETURNS numeric
    AS 'MODULE_PATHNAME', 'monetary_minor_units' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION monetary(numeric, currency) IS
    'an amount from a number; an error if it is not a whole number of minor units';
COMMENT ON FUNCTION monetary(numeric, currency, rounding_mode) IS
    'an amount from a number, rounded once to the currency''s minor unit';
COMMENT ON FUNCTION amount(monetary) IS 'the amount as numeric, at the currency''s scale';
COMMENT ON FUNCTION currency(monetary) IS 'the amount''s currency';
COMMENT ON FUNCTION minor_units(monetary) IS 'the integer count of minor units';

-- arithmetic
CREATE FUNCTION monetary_add(monetary, monetary) RETURNS monetary
    AS 'MODULE_PATHNAME', 'monetary_add' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION monetary_sub(monetary, monetary) RETURNS monetary
    AS 'MODULE_PATHNAME', 'monetary_sub' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION monetary_neg(monetary) RETURNS monetary
    AS 'MODULE_PATHNAME', 'monetary_neg' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION monetary_mul_numeric(monetary, numeric) RETURNS monetary
    AS 'MODULE_PATHNAME', 'monetary_mul_numeric' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION numeric_mul_monetary(numeric, monetary) RETURNS monetary
    AS 'MODULE_PATHNAME', 'numeric_mul_monetary' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION monetary_mul_int8(monetary, bigint) RETURNS monetary
    AS 'MODULE_PATHNAME', 'monetary_mul_int8' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION int8_mul_monetary(bigint, monetary) RETURNS monetary
    AS 'MODULE_PATHNAME', 'int8_mul_monetary' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION monetary_mul_int4(monetary, integer) RETURNS monetary
    AS 'MODULE_PATHNAME', 'monetary_mul_int4' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION int4_mul_monetary(integer, monetary) RETURNS monetary
    AS 'MODULE_PATHNAME', 'int4_mul_monetary' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION monetary_div_int4(monetary, integer) RETURNS monetary
    AS 'MODULE_PATHNAME', 'monetary_div_int4' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION monetary_div_numeric(monetary, numeric) RETURNS monetary
    AS 'MODULE_PATHNAME', 'monetary_div_numeric' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION monetary_div_int8(monetary, bigint) RETURNS monetary
    AS 'MODULE_PATHNAME', 'monetary_div_int8' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION monetary_div_monetary(monetary, monetary) RETURNS numeric
    AS 'MODULE_PATHNAME', 'monetary_div_monetary' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION monetary_add(monetary, monetary) IS 'sum of two amounts of one currency';
COMMENT ON FUNCTION monetary_sub(monetary, monetary) IS 'difference of two amounts of one currency';
COMMENT ON FUNCTION monetary_neg(monetary) IS 'the amount negated';
COMMENT ON FUNCTION monetary_mul_numeric(monetary, numeric) IS 'exact product; an error if it needs rounding';
COMMENT ON FUNCTION numeric_mul_monetary(numeric, monetary) IS 'exact product; an error if it needs rounding';
COMMENT ON FUNCTION monetary_mul_int8(monetary, bigint) IS 'exact product';
COMMENT ON FUNCTION int8_mul_monetary(bigint, monetary) IS 'exact product';
COMMENT ON FUNCTION monetary_mul_int4(monetary, integer) IS 'exact product';
COMMENT ON FUNCTION int4_mul_monetary(integer, monetary) IS 'exact product';
COMMENT ON FUNCTION monetary_div_int4(monetary, integer) IS 'exact quotient; an error if it needs rounding';
COMMENT ON FUNCTION monetary_div_numeric(monetary, numeric) IS 'exact quotient; an error if it needs rounding';
COMMENT ON FUNCTION monetary_div_int8(monetary, bigint) IS 'exact quotient; an error if it needs rounding';
COMMENT ON FUNCTION monetary_div_monetary(monetary, monetary) IS 'the ratio of two amounts of one currency';

CREATE OPERATOR + (LEFTARG = monetary, RIGHTARG = monetary,
    FUNCTION = monetary_add, COMMUTATOR = '+');
CREATE OPERATOR - (LEFTARG = monetary, RIGHTARG = monetary,
    FUNCTION = monetary_sub);
CREATE OPERATOR - (RIGHTARG = monetary, FUNCTION = monetary_neg);
CREATE OPERATOR * (LEFTARG = monetary, RIGHTARG = numeric,
    FUNCTION = monetary_mul_numeric, COMMUTATOR = '*');
CREATE OPERATOR * (LEFTARG = numeric, RIGHTARG = monetary,
    FUNCTION = numeric_mul_monetary, COMMUTATOR = '*');
CREATE OPERATOR * (LEFTARG = monetary, RIGHTARG = bigint,
    FUNCTION = monetary_mul_int8, COMMUTATOR = '*');
CREATE OPERATOR * (LEFTARG = bigint, RIGHTARG = monetary,
    FUNCTION = int8_mul_monetary, COMMUTATOR = '*');
-- integer forms too: with only bigint and numeric, amount * 3 is ambiguous
CREATE OPERATOR * (LEFTARG = monetary, RIGHTARG = integer,
    FUNCTION = monetary_mul_int4, COMMUTATOR = '*');
CREATE OPERATOR * (LEFTARG = integer, RIGHTARG = monetary,
    FUNCTION = int4_mul_monetary, COMMUTATOR = '*');
CREATE OPERATOR / (LEFTARG = monetary, RIGHTARG = integer,
    FUNCTION = monetary_div_int4);
CREATE OPERATOR / (LEFTARG = monetary, RIGHTARG = numeric,
    FUNCTION = monetary_div_numeric);
CREATE OPERATOR / (LEFTARG = monetary, RIGHTARG = bigint,
    FUNCTION = monetary_div_int8);
CREATE OPERATOR / (LEFTARG = monetary, RIGHTARG = monetary,
    FUNCTION = monetary_div_monetary);

-- explicit rounding
CREATE FUNCTION mul(monetary, numeric, rounding_mode) RETURNS monetary
    AS 'MODULE_PATHNAME', 'monetary_mul_rounded' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION div(monetary, numeric, rounding_mode) RETURNS monetary
    AS 'MODULE_PATHNAME', 'monetary_div_rounded' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION rescale(monetary, scale integer,
        rounding_mode rounding_mode DEFAULT 'half_even') RETURNS monetary
    AS 'MODULE_PATHNAME', 'monetary_rescale' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION round(monetary, increment monetary,
        rounding_mode rounding_mode) RETURNS monetary
    AS 'MODULE_PATHNAME', 'monetary_round' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION mul(monetary, numeric, rounding_mode) IS
    'product rounded once to a minor unit';
COMMENT ON FUNCTION div(monetary, numeric, rounding_mode) IS
    'quotient rounded once to a minor unit';
COMMENT ON FUNCTION rescale(monetary, integer, rounding_mode) IS
    'the amount in the same code at another scale (USD to USD/4), rounded if it must';
COMMENT ON FUNCTION round(monetary, monetary, rounding_mode) IS
    'rounds to a whole multiple of a cash increment (CHF to 0.05)';

-- allocation
CREATE FUNCTION allocate(monetary, ratios numeric[]) RETURNS monetary[]
    AS 'MODULE_PATHNAME', 'monetary_allocate' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION split(monetary, parts integer) RETURNS monetary[]
    AS 'MODULE_PATHNAME', 'monetary_split' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION allocate(monetary, numeric[]) IS
    'splits by ratios; the parts sum exactly to the whole (largest remainder, ties to the earlier part)';
COMMENT ON FUNCTION split(monetary, integer) IS
    'splits into n parts as equal as minor units allow; the earlier parts get the odd units';

-- comparison: = and <> never raise; < <= > >= refuse mixed currencies
CREATE FUNCTION monetary_eq(monetary, monetary) RETURNS boolean
    AS 'MODULE_PATHNAME', 'monetary_eq' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION monetary_ne(monetary, monetary) RETURNS boolean
    AS 'MODULE_PATHNAME', 'monetary_ne' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION monetary_lt(monetary, monetary) RETURNS boolean
    AS 'MODULE_PATHNAME', 'monetary_lt' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION monetary_le(monetary, monetary) RETURNS boolean
    AS 'MODULE_PATHNAME', 'monetary_le' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION monetary_gt(monetary, monetary) RETURNS boolean
    AS 'MODULE_PATHNAME', 'monetary_gt' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION monetary_ge(monetary, monetary) RETURNS boolean
    AS 'MODULE_PATHNAME', 'monetary_ge' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION monetary_total_lt(monetary, monetary) RETURNS boolean
    AS 'MODULE_PATHNAME', 'monetary_total_lt' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION monetary_total_le(monetary, monetary) RETURNS boolean
    AS 'MODULE_PATHNAME', 'monetary_total_le' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION monetary_total_gt(monetary, monetary) RETURNS boolean
    AS 'MODULE_PATHNAME', 'monetary_total_gt' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION monetary_total_ge(monetary, monetary) RETURNS boolean
    AS 'MODULE_PATHNAME', 'monetary_total_ge' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION monetary_total_cmp(monetary, monetary) RETURNS integer
    AS 'MODULE_PATHNAME', 'monetary_total_cmp' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION monetary_hash(monetary) RETURNS integer
    AS 'MODULE_PATHNAME', 'monetary_hash' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION monetary_hash_extended(monetary, bigint) RETURNS bigint
    AS 'MODULE_PATHNAME', 'monetary_hash_extended' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
COMMENT ON FUNCTION monetary_eq(monetary, monetary) IS 'same currency and amount; never raises';
COMMENT ON FUNCTION monetary_ne(monetary, monetary) IS 'different currency or amount; never raises';
COMMENT ON FUNCTION monetary_lt(monetary, monetary) IS 'less than; raises on a currency mismatch';
COMMENT ON FUNCTION monetary_le(monetary, monetary) IS 'at most; raises on a currency mismatch';
COMMENT ON FUNCTION monetary_gt(monetary, monetary) IS 'greater than; raises on a currency mismatch';
COMMENT ON FUNCTION monetary_ge(monetary, monetary) IS 'at least; raises on a currency mismatch';
COMMENT ON FUNCTION monetary_total_lt(monetary, monetary) IS 'total order (currency, then amount): before';
COMMENT ON FUNCTION monetary_total_le(monetary, monetary) IS 'total order (currency, then amount): not after';
COMMENT ON FUNCTION monetary_total_gt(monetary, monetary) IS 'total order (currency, then amount): after';
COMMENT ON FUNCTION monetary_total_ge(monetary, monetary) IS 'total order (currency, then amount): not before';
COMMENT ON FUNCTION monetary_total_cmp(monetary, monetary) IS 'btree support: total order, currency then amount';
COMMENT ON FUNCTION monetary_hash(monetary) IS 'hash support';
COMMENT ON FUNCTION monetary_hash_extended(monetary, bigint) IS 'hash support with a seed, for hash partitioning';

CREATE OPERATOR = (
    LEFTARG = monetary, RIGHTARG = monetary,
    FUNCTION = monetary_eq, COMMUTATOR = '=',
    NEGATOR = '<>', RESTRICT = eqsel, JOIN = eqjoinsel,
    HASHES, MERGES);
CREATE OPERATOR <> (
    LEFTARG = monetary, RIGHTARG = monetary,
    FUNCTION = monetary_ne, COMMUTATOR = '<>',
    NEGATOR = '=', RESTRICT = neqsel, JOIN = neqjoinsel);
CREATE OPERATOR < (
    LEFTARG = monetary, RIGHTARG = monetary,
    FUNCTION = monetary_lt, COMMUTATOR = '>',
    NEGATOR = '>=', RESTRICT = scalarltsel, JOIN = scalarltjoinsel);
CREATE OPERATOR <= (
    LEFTARG = monetary, RIGHTARG = monetary,
    FUNCTION = monetary_le, COMMUTATOR = '>=',
    NEGATOR = '>', RESTRICT = scalarlesel, JOIN = scalarlejoinsel);
CREATE OPERATOR > (
    LEFTARG = monetary, RIGHTARG = monetary,
    FUNCTION = monetary_gt, COMMUTATOR = '<',
    NEGATOR = '<=', RESTRICT = scalargtsel, JOIN = scalargtjoinsel);
CREATE OPERATOR >= (
    LEFTARG = monetary, RIGHTARG = monetary,
    FUNCTION = monetary_ge, COMMUTATOR = '<=',
    NEGATOR = '<', RESTRICT = scalargesel, JOIN = scalargejoinsel);
CREATE OPERATOR ~<~ (
    LEFTARG = monetary, RIGHTARG = monetary,
    FUNCTION = monetary_total_lt, COMMUTATOR = '~>~',
    NEGATOR = '~>=~', RESTRICT = scalarltsel, JOIN = scalarltjoinsel);
CREATE OPERATOR ~<=~ (
    LEFTARG = monetary, RIGHTARG = monetary,
    FUNCTION = monetary_total_le, COMMUTATOR = '~>=~',
    NEGATOR = '~>~', RESTRICT = scalarlesel, JOIN = scalarlejoinsel);
CREATE OPERATOR ~>~ (
    LEFTARG = monetary, RIGHTARG = monetary,
    FUNCTION = monetary_total_gt, COMMUTATOR = '~<~',
    NEGATOR = '~<=~', RESTRICT = scalargtsel, JOIN = scalargtjoinsel);
CREATE OPERATOR ~>=~ (
    LEFTARG = monetary, RIGHTARG = monetary,
    FUNCTION = monetary_total_ge, COMMUTATOR = '~<=~',
    NEGATOR = '~<~', RESTRICT = scalargesel, JOIN = scalargejoinsel);

COMMENT ON OPERATOR + (monetary, monetary) IS 'sum of two amounts of one currency';
COMMENT ON OPERATOR - (monetary, monetary) IS 'difference of two amounts of one currency';
COMMENT ON OPERATOR - (NONE, monetary) IS 'the amount negated';
COMMENT ON OPERATOR * (monetary, numeric) IS 'exact product; an error if it needs rounding';
COMMENT ON OPERATOR * (numeric, monetary) IS 'exact product; an error if it needs rounding';
COMMENT ON OPERATOR * (monetary, bigint) IS 'exact product';
COMMENT ON OPERATOR * (bigint, monetary) IS 'exact product';
COMMENT ON OPERATOR * (monetary, integer) IS 'exact product';
COMMENT ON OPERATOR * (integer, monetary) IS 'exact product';
COMMENT ON OPERATOR / (monetary, integer) IS 'exact quotient; an error if it needs rounding';
COMMENT ON OPERATOR / (monetary, numeric) IS 'exact quotient; an error if it needs rounding';
COMMENT ON OPERATOR / (monetary, bigint) IS 'exact quotient; an error if it needs rounding';
COMMENT ON OPERATOR / (monetary, monetary) IS 'the ratio of two amounts of one currency';
COMMENT ON OPERATOR = (monetary, monetary) IS 'same currency and amount; never raises';
COMMENT ON OPERATOR <> (monetary, monetary) IS 'different currency or amount; never raises';
COMMENT ON OPERATOR < (monetary, monetary) IS 'less than; raises on a currency mismatch';
COMMENT ON OPERATOR <= (monetary, monetary) IS 'at most; raises on a currency mismatch';
COMMENT ON OPERATOR > (monetary, monetary) IS 'greater than; raises on a currency mismatch';
COMMENT ON OPERATOR >= (monetary, monetary) IS 'at least; raises on a currency mismatch';
COMMENT ON OPERATOR ~<~ (monetary, monetary) IS 'total order (currency, then amount): before';
COMMENT ON OPERATOR ~<=~ (monetary, monetary) IS 'total order (currency, then amount): not after';
COMMENT ON OPERATOR ~>~ (monetary, monetary) IS 'total order (currency, then amount): after';
COMMENT ON OPERATOR ~>=~ (monetary, monetary) IS 'total order (currency, then amount): not before';

-- The default opclasses use the total order, so that sorting, grouping,
-- DISTINCT, UNIQUE and merge joins work on mixed-currency columns.
CREATE OPERATOR CLASS monetary_ops
    DEFAULT FOR TYPE monetary USING btree AS
        OPERATOR 1 ~<~,
        OPERATOR 2 ~<=~,
        OPERATOR 3 =,
        OPERATOR 4 ~>=~,
        OPERATOR 5 ~>~,
        FUNCTION 1 monetary_total_cmp(monetary, monetary);
CREATE OPERATOR CLASS monetary_hash_ops
    DEFAULT FOR TYPE monetary USING hash AS
        OPERATOR 1 =,
        FUNCTION 1 monetary_hash(monetary),
        FUNCTION 2 monetary_hash_extended(monetary, bigint);
COMMENT ON OPERATOR CLASS monetary_ops USING btree IS
    'a total order, currency first and then amount, so that sorting and grouping work on mixed currencies';
COMMENT ON OPERATOR CLASS monetary_hash_ops USING hash IS
    'hashes amounts with their currency, for hash joins, aggregation and partitioning';

-- aggregates -------------------------------------------------------------

CREATE FUNCTION monetary_sum_accum(internal, monetary) RETURNS internal
    AS 'MODULE_PATHNAME', 'monetary_sum_accum' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION monetary_sum_combine(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'monetary_sum_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION monetary_sum_serialize(internal) RETURNS bytea
    AS 'MODULE_PATHNAME', 'monetary_sum_serialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION monetary_sum_deserialize(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'monetary_sum_deserialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION monetary_sum_final(internal) RETURNS monetary
    AS 'MODULE_PATHNAME', 'monetary_sum_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION monetary_avg_final(internal) RETURNS monetary
    AS 'MODULE_PATHNAME', 'monetary_avg_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION monetary_smaller(monetary, monetary) RETURNS monetary
    AS 'MODULE_PATHNAME', 'monetary_smaller' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION monetary_larger(monetary, monetary) RETURNS monetary
    AS 'MODULE_PATHNAME', 'monetary_larger' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION monetary_sum_accum(internal, monetary) IS 'sum/avg transition: adds one amount';
COMMENT ON FUNCTION monetary_sum_combine(internal, internal) IS 'sum/avg: merges two partial states';
COMMENT ON FUNCTION monetary_sum_serialize(internal) IS 'sum/avg: state to bytes, for parallel workers';
COMMENT ON FUNCTION monetary_sum_deserialize(bytea, internal) IS 'sum/avg: state from bytes, for parallel workers';
COMMENT ON FUNCTION monetary_sum_final(internal) IS 'sum: the exact total';
COMMENT ON FUNCTION monetary_avg_final(internal) IS 'avg: the mean, rounded half-even';
COMMENT ON FUNCTION monetary_smaller(monetary, monetary) IS 'the smaller amount; raises on a currency mismatch';
COMMENT ON FUNCTION monetary_larger(monetary, monetary) IS 'the larger amount; raises on a currency mismatch';

CREATE AGGREGATE sum(monetary) (
    SFUNC = monetary_sum_accum,
    STYPE = internal,
    SSPACE = 48,
    FINALFUNC = monetary_sum_final,
    COMBINEFUNC = monetary_sum_combine,
    SERIALFUNC = monetary_sum_serialize,
    DESERIALFUNC = monetary_sum_deserialize,
    PARALLEL = SAFE
);
CREATE AGGREGATE avg(monetary) (
    SFUNC = monetary_sum_accum,
    STYPE = internal,
    SSPACE = 48,
    FINALFUNC = monetary_avg_final,
    COMBINEFUNC = monetary_sum_combine,
    SERIALFUNC = monetary_sum_serialize,
    DESERIALFUNC = monetary_sum_deserialize,
    PARALLEL = SAFE
);
CREATE AGGREGATE min(monetary) (
    SFUNC = monetary_smaller,
    STYPE = monetary,
    COMBINEFUNC = monetary_smaller,
    PARALLEL = SAFE
);
CREATE AGGREGATE max(monetary) (
    SFUNC = monetary_larger,
    STYPE = monetary,
    COMBINEFUNC = monetary_larger,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE sum(monetary) IS 'exact total; mixing currencies in one group is an error';
COMMENT ON AGGREGATE avg(monetary) IS 'mean rounded half-even to a minor unit; mixing currencies is an error';
COMMENT ON AGGREGATE min(monetary) IS 'smallest amount; mixing currencies is an error';
COMMENT ON AGGREGATE max(monetary) IS 'largest amount; mixing currencies is an error';
