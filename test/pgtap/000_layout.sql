-- The two extensions are where DESIGN.md section 1 puts them: monetary in
-- the schema it was created in (here public, the first on the default
-- search_path), payments in schema payments and requiring monetary, both at
-- the version the control files name.  And the point of that layout: a role
-- with the README's analyst grants and the default search_path uses the
-- money operators and aggregates unqualified.
BEGIN;
SELECT plan(13);

SELECT has_extension('monetary', 'extension monetary is installed');
SELECT has_extension('payments', 'extension payments is installed');
SELECT is((SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'monetary'),
          'public', 'monetary lives in the schema it was created in (public, by default)');
SELECT is((SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'payments'),
          'payments', 'payments lives in schema payments');
SELECT is((SELECT array_agg(extrelocatable ORDER BY extname) FROM pg_extension
            WHERE extname IN ('monetary', 'payments')),
          ARRAY[false, false], 'neither extension is relocatable');
SELECT is((SELECT requires FROM pg_available_extension_versions
            WHERE name = 'payments' AND installed),
          ARRAY['monetary']::name[], 'payments requires monetary');
SELECT is((SELECT count(*)::int FROM pg_extension e
             JOIN pg_available_extensions a ON a.name = e.extname AND a.default_version = e.extversion
            WHERE e.extname IN ('monetary', 'payments')),
          2, 'both are at the version their control files name');
SELECT is_empty($$
    SELECT pg_describe_object(d.classid, d.objid, 0)
      FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'monetary'
     WHERE d.deptype = 'e'
       AND d.classid <> 'pg_cast'::regclass   -- casts belong to no schema
       AND (pg_identify_object(d.classid, d.objid, 0)).schema IS DISTINCT FROM 'public'$$,
    'every object of monetary is in its schema');

-- an analyst, as the README grants one, with the default search_path
CREATE ROLE layout_analyst;
GRANT USAGE ON SCHEMA payments TO layout_analyst;
GRANT SELECT ON ALL TABLES IN SCHEMA payments TO layout_analyst;
SELECT payments.create_account('layout_bank', 'USD', 'debit', true) AS bank,
       payments.create_account('layout_alice', 'USD') AS alice,
       payments.create_account('layout_vault', 'EUR', 'debit', true) AS vault,
       payments.create_account('layout_bob', 'EUR') AS bob \gset
SELECT payments.post_transfer(:bank, :alice, '12.34 USD'),
       payments.post_transfer(:bank, :alice, '0.66 USD'),
       payments.post_transfer(:vault, :bob, '5.00 EUR');
SET LOCAL ROLE layout_analyst;
RESET search_path;
SELECT is(current_setting('search_path'), '"$user", public', 'the analyst has the default search_path');
SELECT is(('12.34 usd'::monetary + '0.66 USD')::text, '13.00 USD',
          'the money operators work unqualified');
SELECT results_eq(
    $$SELECT currency(amount)::text, sum(amount)::text FROM payments.transfers
       WHERE ledger = 'default' AND from_account IN (SELECT id FROM payments.accounts WHERE name LIKE 'layout\_%')
       GROUP BY 1 ORDER BY 1$$,
    $$VALUES ('EUR', '5.00 EUR'), ('USD', '13.00 USD')$$,
    'the analyst sums amounts per currency, unqualified');
SELECT is((SELECT scale(currency) FROM payments.accounts WHERE name = 'layout_alice'), 2,
          'and reads a currency''s scale');
RESET ROLE;
SELECT throws_ok($$SELECT '1.00 USD'::monetary + '1.00 EUR'$$, '22000',
                 'currency mismatch: USD and EUR', 'currencies still never mix');

SELECT * FROM finish();
ROLLBACK;
