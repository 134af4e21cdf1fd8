-- The extension is installed where the contract says it is.
BEGIN;
SELECT plan(4);

SELECT has_extension('payments', 'extension payments is installed');
SELECT has_schema('payments', 'schema payments exists');
SELECT is(
    (SELECT n.nspname::text FROM pg_extension e
       JOIN pg_namespace n ON n.oid = e.extnamespace
      WHERE e.extname = 'payments'),
    'payments',
    'extension payments lives in schema payments');
SELECT is(
    (SELECT extversion FROM pg_extension WHERE extname = 'payments'),
    '1.0',
    'extension payments is at version 1.0');

SELECT * FROM finish();
ROLLBACK;
