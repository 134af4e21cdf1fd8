-- The money types' contract with DBAs (DESIGN.md section 2): the types and
-- their storage, every operator, the default btree and hash opclasses
-- (with hash support function 2), the labels of every money function
-- (IMMUTABLE, STRICT where it can be, PARALLEL SAFE, LEAKPROOF exactly where
-- nothing can raise), a COMMENT on every function, type and operator of the
-- extension, the search_path rule, and text and binary input that read no
-- table and resolve no name.
--
-- The search_path rule checked here: a function resolves names through the
-- search path only when it is written in SQL or PL/pgSQL with a string body,
-- or is C code running SPI queries.  So (a) every SECURITY DEFINER function
-- not in C has SET search_path; (b) every function of the extension that is neither C
-- nor a SQL-standard body (BEGIN ATOMIC / RETURN, resolved at creation) has
-- SET search_path; (c) C functions need none: they call other code directly,
-- and the ones that run SPI must schema-qualify every name (checked by their
-- own suites).  The money functions are all C (or aggregates over C
-- functions), run no SPI, and carry no SET clause, which would cost a
-- settings save and restore on every call of an operator.
BEGIN;
SET search_path = public, payments;
-- extension monetary's objects live in the schema it was created in
SELECT extnamespace::regnamespace::text AS money_schema
  FROM pg_extension WHERE extname = 'monetary' \gset

-- The money functions: those whose C symbol belongs to the currency and
-- monetary code (currency_*, monetary_*, and the two commuted products),
-- and the aggregates built on them.  Found in the catalog, so a new one is
-- checked (and must be added to the expected list below).
CREATE TEMP TABLE money_functions AS
SELECT p.oid, p.oid::regprocedure::text AS signature, p.proname, p.prokind,
       ARRAY(SELECT format_type(t, NULL) FROM unnest(p.proargtypes) AS t) AS args
FROM pg_proc p
JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'monetary'
LEFT JOIN pg_aggregate a ON a.aggfnoid = p.oid
WHERE (p.prolang = (SELECT oid FROM pg_language WHERE lanname = 'c')
       AND (p.prosrc ~ '^(currency|monetary)_' OR p.prosrc IN ('numeric_mul_monetary', 'int8_mul_monetary', 'int4_mul_monetary', 'int2_mul_monetary', 'text_mul_monetary')))
   OR a.aggtransfn::text ~ '(^|\.)monetary_';

-- What the contract expects of each: strict or not, leakproof or not.  The
-- aggregates' internal-state helpers cannot be strict; LEAKPROOF marks the
-- functions that never raise, whatever their arguments.
CREATE TEMP TABLE money_expected (signature text, strict boolean, leakproof boolean);
INSERT INTO money_expected VALUES
    ('currency_in(cstring)', true, false),
    ('currency_out(currency)', true, false),
    ('currency_recv(internal)', true, false),
    ('currency_send(currency)', true, false),
    ('currency_eq(currency,currency)', true, true),
    ('currency_ne(currency,currency)', true, true),
    ('currency_lt(currency,currency)', true, true),
    ('currency_le(currency,currency)', true, true),
    ('currency_gt(currency,currency)', true, true),
    ('currency_ge(currency,currency)', true, true),
    ('currency_cmp(currency,currency)', true, true),
    ('currency_hash(currency)', true, true),
    ('currency_hash_extended(currency,bigint)', true, true),
    ('scale(currency)', true, false),
    ('monetary_in(cstring)', true, false),
    ('monetary_out(monetary)', true, false),
    ('monetary_recv(internal)', true, false),
    ('monetary_send(monetary)', true, false),
    ('monetary(numeric,currency)', true, false),
    ('monetary(numeric,currency,rounding_mode)', true, false),
    ('amount(monetary)', true, false),
    ('currency(monetary)', true, true),
    ('minor_units(monetary)', true, false),
    ('monetary_add(monetary,monetary)', true, false),
    ('monetary_sub(monetary,monetary)', true, false),
    ('monetary_neg(monetary)', true, false),
    ('monetary_mul_numeric(monetary,numeric)', true, false),
    ('numeric_mul_monetary(numeric,monetary)', true, false),
    ('monetary_mul_int8(monetary,bigint)', true, false),
    ('int8_mul_monetary(bigint,monetary)', true, false),
    ('monetary_mul_int4(monetary,integer)', true, false),
    ('int4_mul_monetary(integer,monetary)', true, false),
    ('monetary_div_numeric(monetary,numeric)', true, false),
    ('monetary_div_int8(monetary,bigint)', true, false),
    ('monetary_div_int4(monetary,integer)', true, false),
    ('monetary_div_monetary(monetary,monetary)', true, false),
    ('monetary_mul_int2(monetary,smallint)', true, false),
    ('int2_mul_monetary(smallint,monetary)', true, false),
    ('monetary_div_int2(monetary,smallint)', true, false),
    ('monetary_mul_text(monetary,text)', true, false),
    ('text_mul_monetary(text,monetary)', true, false),
    ('monetary_to_json(monetary)', true, false),
    ('monetary_to_jsonb(monetary)', true, false),
    ('mul(monetary,numeric,rounding_mode)', true, false),
    ('div(monetary,numeric,rounding_mode)', true, false),
    ('rescale(monetary,integer,rounding_mode)', true, false),
    ('round(monetary,monetary,rounding_mode)', true, false),
    ('allocate(monetary,numeric[])', true, false),
    ('split(monetary,integer)', true, false),
    ('monetary_eq(monetary,monetary)', true, true),
    ('monetary_ne(monetary,monetary)', true, true),
    ('monetary_lt(monetary,monetary)', true, false),
    ('monetary_le(monetary,monetary)', true, false),
    ('monetary_gt(monetary,monetary)', true, false),
    ('monetary_ge(monetary,monetary)', true, false),
    ('monetary_total_lt(monetary,monetary)', true, true),
    ('monetary_total_le(monetary,monetary)', true, true),
    ('monetary_total_gt(monetary,monetary)', true, true),
    ('monetary_total_ge(monetary,monetary)', true, true),
    ('monetary_total_cmp(monetary,monetary)', true, true),
    ('monetary_hash(monetary)', true, true),
    ('monetary_hash_extended(monetary,bigint)', true, true),
    ('monetary_sum_accum(internal,monetary)', false, false),
    ('monetary_sum_combine(internal,internal)', false, false),
    ('monetary_sum_serialize(internal)', true, false),
    ('monetary_sum_deserialize(bytea,internal)', true, false),
    ('monetary_sum_final(internal)', false, false),
    ('monetary_avg_final(internal)', false, false),
    ('monetary_smaller(monetary,monetary)', true, false),
    ('monetary_larger(monetary,monetary)', true, false),
    ('sum(monetary)', NULL, false),
    ('avg(monetary)', NULL, false),
    ('min(monetary)', NULL, false),
    ('max(monetary)', NULL, false);

-- 46 fixed tests, and per money function: volatility, parallel safety,
-- leakproofness, and strictness (not for aggregates).
SELECT plan(46 + (SELECT 3 * count(*)::int + count(*) FILTER (WHERE prokind <> 'a')::int
                  FROM money_functions));

-- The set of money functions ------------------------------------------------

SELECT set_eq($$SELECT signature FROM money_functions$$,
              $$SELECT signature FROM money_expected$$,
              'the money functions are exactly the expected ones (add a new one to the list, with its labels)');

-- Labels, one function at a time ---------------------------------------------

SELECT volatility_is(:'money_schema', proname, args, 'immutable', signature || ' is IMMUTABLE')
FROM money_functions ORDER BY signature;
SELECT is(p.proparallel, 's', f.signature || ' is PARALLEL SAFE')
FROM money_functions f JOIN pg_proc p USING (oid) ORDER BY f.signature;
SELECT CASE WHEN coalesce(e.strict, true)
            THEN is_strict(:'money_schema', f.proname, f.args, f.signature || ' is STRICT')
            ELSE isnt_strict(:'money_schema', f.proname, f.args, f.signature || ' is not STRICT (it handles NULL itself)')
       END
FROM money_functions f LEFT JOIN money_expected e USING (signature)
WHERE f.prokind <> 'a' ORDER BY f.signature;
SELECT is(p.proleakproof, coalesce(e.leakproof, false),
          f.signature || CASE WHEN coalesce(e.leakproof, false) THEN ' is LEAKPROOF (it never raises)'
                              ELSE ' is not LEAKPROOF' END)
FROM money_functions f JOIN pg_proc p USING (oid) LEFT JOIN money_expected e USING (signature)
ORDER BY f.signature;

-- Types -----------------------------------------------------------------------

SELECT has_type(:'money_schema', 'currency', 'type currency exists');
SELECT has_type(:'money_schema', 'monetary', 'type monetary exists');
SELECT has_enum(:'money_schema', 'rounding_mode', 'enum rounding_mode exists');
SELECT enum_has_labels(:'money_schema', 'rounding_mode',
    ARRAY['half_even', 'half_up', 'half_down', 'up', 'down', 'ceiling', 'floor', 'unnecessary'],
    'rounding_mode has the eight modes of the contract, in order');
SELECT is((SELECT ROW(typlen, typbyval, typalign, typstorage)::text FROM pg_type
            WHERE oid = 'currency'::regtype),
          '(8,t,d,p)', 'currency: 8 bytes, passed by value, plain storage');
SELECT is((SELECT ROW(typlen, typbyval, typalign, typstorage)::text FROM pg_type
            WHERE oid = 'monetary'::regtype),
          '(24,f,d,p)', 'monetary: fixed-length 24 bytes, double-aligned, plain storage (never toasted)');
SELECT is((SELECT typreceive <> 0 AND typsend <> 0 FROM pg_type WHERE oid = 'monetary'::regtype),
          true, 'monetary has binary send and receive');
SELECT is((SELECT typreceive <> 0 AND typsend <> 0 FROM pg_type WHERE oid = 'currency'::regtype),
          true, 'currency has binary send and receive');

-- The contract's functions, with their result types ---------------------------

SELECT function_returns(:'money_schema', 'monetary', ARRAY['numeric', 'currency'], 'monetary',
                        'monetary(numeric, currency) returns monetary');
SELECT function_returns(:'money_schema', 'monetary', ARRAY['numeric', 'currency', 'rounding_mode'],
                        'monetary', 'monetary(numeric, currency, rounding_mode) returns monetary');
SELECT function_returns(:'money_schema', 'amount', ARRAY['monetary'], 'numeric',
                        'amount(monetary) returns numeric');
SELECT function_returns(:'money_schema', 'currency', ARRAY['monetary'], 'currency',
                        'currency(monetary) returns currency');
SELECT function_returns(:'money_schema', 'minor_units', ARRAY['monetary'], 'numeric',
                        'minor_units(monetary) returns numeric (the integer count)');
SELECT function_returns(:'money_schema', 'scale', ARRAY['currency'], 'integer',
                        'scale(currency) returns int');
SELECT function_returns(:'money_schema', 'mul', ARRAY['monetary', 'numeric', 'rounding_mode'],
                        'monetary', 'mul(monetary, numeric, rounding_mode) returns monetary');
SELECT function_returns(:'money_schema', 'div', ARRAY['monetary', 'numeric', 'rounding_mode'],
                        'monetary', 'div(monetary, numeric, rounding_mode) returns monetary');
SELECT function_returns(:'money_schema', 'round', ARRAY['monetary', 'monetary', 'rounding_mode'],
                        'monetary', 'round(monetary, increment monetary, rounding_mode) returns monetary');
SELECT function_returns(:'money_schema', 'allocate', ARRAY['monetary', 'numeric[]'], 'monetary[]',
                        'allocate(monetary, numeric[]) returns monetary[]');
SELECT function_returns(:'money_schema', 'split', ARRAY['monetary', 'integer'], 'monetary[]',
                        'split(monetary, int) returns monetary[]');
SELECT is(pg_get_function_arguments('rescale(monetary, integer, rounding_mode)'::regprocedure),
          'monetary, scale integer, rounding_mode rounding_mode DEFAULT ''half_even''::rounding_mode',
          'rescale(monetary, scale int, rounding_mode DEFAULT ''half_even'')');
SELECT ok((SELECT count(*) = 4
             FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid
            WHERE p.oid IN ('sum(monetary)'::regprocedure, 'avg(monetary)'::regprocedure,
                            'min(monetary)'::regprocedure, 'max(monetary)'::regprocedure)
              AND a.aggcombinefn <> 0
              AND (a.aggtranstype <> 'internal'::regtype OR (a.aggserialfn <> 0 AND a.aggdeserialfn <> 0))),
          'sum, avg, min and max over monetary have combine functions (and serialize/deserialize for internal state)');

-- Operators -----------------------------------------------------------------

SELECT is(
    (SELECT string_agg(format('%s %s %s -> %s', CASE WHEN o.oprleft <> 0 THEN o.oprleft::regtype::text ELSE '' END, o.oprname,
                              o.oprright::regtype, o.oprresult::regtype), E'\n'
                       ORDER BY o.oprname, o.oprleft::regtype::text, o.oprright::regtype::text)
       FROM pg_operator o
      WHERE o.oprnamespace = :'money_schema'::regnamespace
        AND (o.oprleft IN ('monetary'::regtype, 'currency'::regtype)
             OR o.oprright IN ('monetary'::regtype, 'currency'::regtype))),
    concat_ws(E'\n',
        'bigint * monetary -> monetary',
        'integer * monetary -> monetary',
        'monetary * bigint -> monetary',
        'monetary * integer -> monetary',
        'monetary * numeric -> monetary',
        'monetary * smallint -> monetary',
        'monetary * text -> monetary',
        'numeric * monetary -> monetary',
        'smallint * monetary -> monetary',
        'text * monetary -> monetary',
        'monetary + monetary -> monetary',
        ' - monetary -> monetary',
        'monetary - monetary -> monetary',
        'monetary / bigint -> monetary',
        'monetary / integer -> monetary',
        'monetary / monetary -> numeric',
        'monetary / numeric -> monetary',
        'monetary / smallint -> monetary',
        'currency < currency -> boolean',
        'monetary < monetary -> boolean',
        'currency <= currency -> boolean',
        'monetary <= monetary -> boolean',
        'currency <> currency -> boolean',
        'monetary <> monetary -> boolean',
        'currency = currency -> boolean',
        'monetary = monetary -> boolean',
        'currency > currency -> boolean',
        'monetary > monetary -> boolean',
        'currency >= currency -> boolean',
        'monetary >= monetary -> boolean',
        'monetary ~<=~ monetary -> boolean',
        'monetary ~<~ monetary -> boolean',
        'monetary ~>=~ monetary -> boolean',
        'monetary ~>~ monetary -> boolean'),
    'the operators on currency and monetary are exactly those of the contract');
SELECT has_operator('monetary', :'money_schema', '+', 'monetary', 'monetary',
                    'monetary + monetary exists in the schema of extension monetary');
SELECT has_leftop(:'money_schema', '-', 'monetary', 'monetary',
                  'unary - monetary exists in the schema of extension monetary');
SELECT is((SELECT oprcanmerge AND oprcanhash FROM pg_operator
            WHERE oid = '=(monetary, monetary)'::regoperator),
          true, 'monetary = monetary can merge and hash (merge and hash joins)');
SELECT is((SELECT oprcanmerge AND oprcanhash FROM pg_operator
            WHERE oid = '=(currency, currency)'::regoperator),
          true, 'currency = currency can merge and hash');

-- Operator classes ------------------------------------------------------------

SELECT has_opclass(:'money_schema', 'monetary_ops', 'operator class monetary_ops exists');
SELECT has_opclass(:'money_schema', 'monetary_hash_ops', 'operator class monetary_hash_ops exists');
SELECT has_opclass(:'money_schema', 'currency_ops', 'operator class currency_ops exists');
SELECT has_opclass(:'money_schema', 'currency_hash_ops', 'operator class currency_hash_ops exists');
SELECT is(
    (SELECT string_agg(format('%s %s %s', c.opcintype::regtype, am.amname, c.opcname), ', '
                       ORDER BY c.opcintype::regtype::text, am.amname)
       FROM pg_opclass c JOIN pg_am am ON am.oid = c.opcmethod
      WHERE c.opcdefault AND c.opcintype IN ('monetary'::regtype, 'currency'::regtype)),
    'currency btree currency_ops, currency hash currency_hash_ops, monetary btree monetary_ops, monetary hash monetary_hash_ops',
    'the default btree and hash opclasses of currency and monetary');
SELECT is(
    (SELECT string_agg(format('%s:%s', ao.amopstrategy, ao.amopopr::regoperator), ' ' ORDER BY ao.amopstrategy)
       FROM pg_amop ao JOIN pg_opclass c ON c.opcfamily = ao.amopfamily
      WHERE c.opcname = 'monetary_ops' AND c.opcnamespace = :'money_schema'::regnamespace),
    '1:~<~(monetary,monetary) 2:~<=~(monetary,monetary) 3:=(monetary,monetary) 4:~>=~(monetary,monetary) 5:~>~(monetary,monetary)',
    'the btree opclass of monetary orders by the total order (currency, then amount), not by the strict operators');
SELECT is(
    (SELECT string_agg(format('%s %s:%s', c.opcname, ap.amprocnum, ap.amproc::regprocedure), ', '
                       ORDER BY c.opcname, ap.amprocnum)
       FROM pg_amproc ap JOIN pg_opclass c ON c.opcfamily = ap.amprocfamily
      WHERE c.opcname IN ('monetary_ops', 'monetary_hash_ops', 'currency_ops', 'currency_hash_ops')
        AND c.opcnamespace = :'money_schema'::regnamespace),
    'currency_hash_ops 1:currency_hash(currency), currency_hash_ops 2:currency_hash_extended(currency,bigint), '
    'currency_ops 1:currency_cmp(currency,currency), '
    'monetary_hash_ops 1:monetary_hash(monetary), monetary_hash_ops 2:monetary_hash_extended(monetary,bigint), '
    'monetary_ops 1:monetary_total_cmp(monetary,monetary)',
    'support functions: btree 1 (comparison), hash 1 and 2 (2, the seeded hash, is what hash partitioning needs)');
SELECT is(monetary_hash_extended('12.34 USD', 0) & x'ffffffff'::bigint,
          monetary_hash('12.34 USD')::bigint & x'ffffffff'::bigint,
          'monetary_hash_extended with seed 0 agrees with monetary_hash in its low 32 bits, as hash support requires');

-- Comments --------------------------------------------------------------------

SELECT is_empty(
    $$SELECT pg_describe_object(d.classid, d.objid, 0)
        FROM pg_depend d
        JOIN pg_extension e ON e.oid = d.refobjid AND e.extname IN ('monetary', 'payments')
       WHERE d.deptype = 'e'
         AND d.classid IN ('pg_proc'::regclass, 'pg_type'::regclass, 'pg_operator'::regclass)
         AND obj_description(d.objid, d.classid::regclass::name) IS NULL
       ORDER BY 1$$,
    'every function, aggregate, type and operator of both extensions has a COMMENT');
SELECT is_empty(
    $$SELECT pg_describe_object(d.classid, d.objid, 0)
        FROM pg_depend d
        JOIN pg_extension e ON e.oid = d.refobjid AND e.extname IN ('monetary', 'payments')
       WHERE d.deptype = 'e' AND d.classid = 'pg_opclass'::regclass
         AND obj_description(d.objid, 'pg_opclass') IS NULL
       ORDER BY 1$$,
    'every operator class of both extensions has a COMMENT');

-- Search paths (the rule is at the top of this file) -----------------------------

SELECT is_empty(
    $$SELECT p.oid::regprocedure::text FROM pg_proc p
        JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
        JOIN pg_extension e ON e.oid = d.refobjid AND e.extname IN ('monetary', 'payments')
        JOIN pg_language l ON l.oid = p.prolang
       WHERE p.prosecdef AND l.lanname <> 'c'
         AND NOT coalesce(p.proconfig::text[] && ARRAY(SELECT c FROM unnest(p.proconfig) AS c
                                                       WHERE c LIKE 'search\_path=%'), false)
       ORDER BY 1$$,
    'every SECURITY DEFINER function of both extensions not in C has SET search_path (the C ones qualify every name: 039_ledger_contract.sql lists them)');
SELECT is_empty(
    $$SELECT p.oid::regprocedure::text FROM pg_proc p
        JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
        JOIN pg_extension e ON e.oid = d.refobjid AND e.extname IN ('monetary', 'payments')
        JOIN pg_language l ON l.oid = p.prolang
       WHERE l.lanname NOT IN ('c', 'internal') AND p.prosqlbody IS NULL
         AND NOT EXISTS (SELECT FROM unnest(p.proconfig) AS c WHERE c LIKE 'search\_path=%')
       ORDER BY 1$$,
    'every SQL or PL/pgSQL function of both extensions with a string body has SET search_path');
SELECT is_empty(
    $$SELECT f.signature FROM money_functions f JOIN pg_proc p USING (oid)
        JOIN pg_language l ON l.oid = p.prolang
       WHERE NOT (l.lanname = 'c' OR p.prokind = 'a') OR p.proconfig IS NOT NULL OR p.prosecdef
       ORDER BY 1$$,
    'every money function is plain C (or an aggregate over C functions): no SET clause, not SECURITY DEFINER');

-- Input reads no table and resolves no name ---------------------------------------

-- With an empty search path (as pg_restore runs), every value reads and
-- means the same.  (The values are computed with the empty path, and
-- tested once pgTAP's functions are on the path again.)
SET LOCAL search_path = '';
CREATE TEMP TABLE empty_path AS
SELECT '12.34 usd':::"money_schema".monetary::text AS monetary_text,
       'eth/18':::"money_schema".currency::text AS currency_text,
       :"money_schema".monetary(1.005, 'USD', 'half_even')::text AS rounded,
       (SELECT :"money_schema".sum(m)::text
          FROM (VALUES ('12.34 USD':::"money_schema".monetary OPERATOR(:"money_schema".+) '0.66 USD'),
                       ('-1.00 USD':::"money_schema".monetary),
                       ('1.00 USD':::"money_schema".monetary)) AS t(m)) AS total;
-- Objects in the caller's path that shadow pg_catalog's names change
-- nothing either: input never looks anything up.
CREATE SCHEMA money_contract_shadow;
CREATE FUNCTION money_contract_shadow.upper(text) RETURNS text LANGUAGE sql AS $$ SELECT 'EUR' $$;
CREATE TABLE money_contract_shadow.iso4217 (code text, minor_units int);
INSERT INTO money_contract_shadow.iso4217 VALUES ('USD', 4);
SET LOCAL search_path = money_contract_shadow, pg_catalog;
CREATE TEMP TABLE shadowed_path AS
SELECT :"money_schema".amount('12.34 usd':::"money_schema".monetary) AS amount,
       :"money_schema".scale('usd':::"money_schema".currency) AS scale;
SET LOCAL search_path = public, payments;
SELECT is(monetary_text, '12.34 USD', 'monetary input with an empty search_path') FROM empty_path;
SELECT is(currency_text, 'ETH/18', 'currency input with an empty search_path') FROM empty_path;
SELECT is(rounded, '1.00 USD', 'a rounding mode is read with an empty search_path') FROM empty_path;
SELECT is(total, '13.00 USD', 'operators and aggregates work, schema-qualified, with an empty search_path')
FROM empty_path;
SELECT is(amount, 12.34, 'a hostile search_path does not change input or amount()') FROM shadowed_path;
SELECT is(scale, 2, 'a hostile search_path does not change the ISO scale of a currency') FROM shadowed_path;

SELECT * FROM finish();
ROLLBACK;
