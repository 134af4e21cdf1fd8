
-- Factors as drivers send them, and the JSON form (release 1.1) ----------

-- smallint: psycopg sends small Python ints as smallint
CREATE FUNCTION monetary_mul_int2(monetary, smallint) RETURNS monetary
    AS 'MODULE_PATHNAME', 'monetary_mul_int2' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION int2_mul_monetary(smallint, monetary) RETURNS monetary
    AS 'MODULE_PATHNAME', 'int2_mul_monetary' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION monetary_div_int2(monetary, smallint) RETURNS monetary
    AS 'MODULE_PATHNAME', 'monetary_div_int2' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION monetary_mul_int2(monetary, smallint) IS 'exact product';
COMMENT ON FUNCTION int2_mul_monetary(smallint, monetary) IS 'exact product';
COMMENT ON FUNCTION monetary_div_int2(monetary, smallint) IS 'exact quotient; an error if it needs rounding';
CREATE OPERATOR * (LEFTARG = monetary, RIGHTARG = smallint,
    FUNCTION = monetary_mul_int2, COMMUTATOR = '*');
CREATE OPERATOR * (LEFTARG = smallint, RIGHTARG = monetary,
    FUNCTION = int2_mul_monetary, COMMUTATOR = '*');
CREATE OPERATOR / (LEFTARG = monetary, RIGHTARG = smallint,
    FUNCTION = monetary_div_int2);

-- text: an untyped parameter (amount * $1, as node-postgres sends it)
-- resolves to these among the numeric forms; the text is an exact decimal
CREATE FUNCTION monetary_mul_text(monetary, text) RETURNS monetary
    AS 'MODULE_PATHNAME', 'monetary_mul_text' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION text_mul_monetary(text, monetary) RETURNS monetary
    AS 'MODULE_PATHNAME', 'text_mul_monetary' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION monetary_mul_text(monetary, text) IS
    'exact product with a decimal written as text (an untyped parameter)';
COMMENT ON FUNCTION text_mul_monetary(text, monetary) IS
    'exact product with a decimal written as text (an untyped parameter)';
CREATE OPERATOR * (LEFTARG = monetary, RIGHTARG = text,
    FUNCTION = monetary_mul_text, COMMUTATOR = '*');
CREATE OPERATOR * (LEFTARG = text, RIGHTARG = monetary,
    FUNCTION = text_mul_monetary, COMMUTATOR = '*');

COMMENT ON OPERATOR * (monetary, smallint) IS 'exact product';
COMMENT ON OPERATOR * (smallint, monetary) IS 'exact product';
COMMENT ON OPERATOR / (monetary, smallint) IS 'exact quotient; an error if it needs rounding';
COMMENT ON OPERATOR * (monetary, text) IS 'exact product with a decimal written as text (an untyped parameter)';
COMMENT ON OPERATOR * (text, monetary) IS 'exact product with a decimal written as text (an untyped parameter)';

-- JSON: {"amount": "12.34", "currency": "USD"}, the amount a string so that
-- no client reads it as a float.  monetary's input reads the form, so the
-- casts from json and jsonb go through text; to_json() and to_jsonb() of a
-- row use the cast to json.
CREATE FUNCTION monetary_to_json(monetary) RETURNS json
    AS 'MODULE_PATHNAME', 'monetary_to_json' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION monetary_to_jsonb(monetary) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'monetary_to_jsonb' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION monetary_to_json(monetary) IS
    'the JSON form: {"amount": "12.34", "currency": "USD"}';
COMMENT ON FUNCTION monetary_to_jsonb(monetary) IS
    'the JSON form: {"amount": "12.34", "currency": "USD"}';
CREATE CAST (monetary AS json) WITH FUNCTION monetary_to_json(monetary);
CREATE CAST (monetary AS jsonb) WITH FUNCTION monetary_to_jsonb(monetary);
CREATE CAST (json AS monetary) WITH INOUT;
CREATE CAST (jsonb AS monetary) WITH INOUT;
