-- Set-up shared by the regression tests, which run in this order in one
-- database: helpers that outlive each test's session.

-- try_sql(query): a query's one value as text (a command's "ok"), or
-- its error as "ERROR SQLSTATE: message" and its DETAIL and HINT lines.
CREATE FUNCTION public.try_sql(query text) RETURNS text LANGUAGE plpgsql AS $f$
DECLARE
    result text;
    state text; message text; detail text; hint text;
BEGIN
    IF query ~* '^\s*(SELECT|VALUES|TABLE|WITH)\M' THEN
        EXECUTE query INTO result;
    ELSE
        EXECUTE query;
        result := 'ok';
    END IF;
    RETURN result;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
        detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
    -- format() of three or more arguments, not ||: test/sql/security.sql plants
    -- a hostile || and a hostile format(text, text) on the path
    RETURN format('ERROR %s: %s%s%s', state, message,
                  CASE WHEN detail <> '' THEN format(E'\nDETAIL: %s%s', detail, '') ELSE '' END,
                  CASE WHEN hint <> '' THEN format(E'\nHINT: %s%s', hint, '') ELSE '' END);
END
$f$;

