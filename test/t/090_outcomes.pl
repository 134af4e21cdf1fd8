# Transfers committed and refusals by SQLSTATE, counted in shared memory
# when the library is preloaded (payments.monitor_outcomes,
# monitor_outcome_totals): a transfer counts once its transaction commits,
# not if it or its savepoint rolls back; a refusal counts once per call of
# the API, nested or caught; the counts start over with the server.  Without
# the library preloaded, the views are empty and posting is the same.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('outcomes');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'payments'\n");
$node->start;

$node->safe_psql('postgres', q{
	CREATE EXTENSION payments CASCADE;
	SELECT payments.create_account('bank', 'USD', 'debit', true);
	SELECT payments.create_account('alice', 'USD');
	SELECT payments.create_account('bob', 'USD');
	CREATE FUNCTION try(sql text) RETURNS text LANGUAGE plpgsql AS $$
	BEGIN
	    EXECUTE sql;
	    RETURN 'ok';
	EXCEPTION WHEN OTHERS THEN
	    RETURN SQLSTATE;
	END $$;
	-- a function of the application that calls the API: its refusal is the API's
	CREATE FUNCTION pay_twice(cents int) RETURNS void LANGUAGE plpgsql AS $$
	BEGIN
	    PERFORM payments.post_transfer(2, 3, monetary(cents / 100.0, 'USD'));
	    PERFORM payments.post_transfer(2, 3, monetary(cents / 100.0, 'USD'));
	END $$;
});

sub totals
{
	return $node->safe_psql('postgres', q{
		SELECT string_agg(outcome || coalesce(' ' || sqlstate, '') || ': ' || count, ', '
		                  ORDER BY outcome, sqlstate NULLS FIRST)
		  FROM payments.monitor_outcome_totals});
}

is(totals(), 'committed: 0', 'a new server has counted nothing');

# committed: 3 single transfers, an entry of 2, a hold, its capture = 7
$node->safe_psql('postgres', q{
	SELECT payments.post_transfer(1, 2, '100.00 USD', 'fund');
	SELECT payments.post_transfer(2, 3, '1.00 USD');
	SELECT payments.post_transfer(2, 3, '2.00 USD');
	SELECT payments.post_transfers(ARRAY[(2, 3, '1.00 USD', NULL, NULL),
	                                     (3, 2, '0.50 USD', NULL, NULL)]::payments.transfer_request[]);
	SELECT payments.capture(payments.hold(2, 3, '5.00 USD'));
});
# not committed: a transaction rolled back, a savepoint rolled back
$node->safe_psql('postgres', q{
	BEGIN;
	SELECT payments.post_transfer(2, 3, '1.00 USD');
	ROLLBACK;
	BEGIN;
	SAVEPOINT s;
	SELECT payments.post_transfer(2, 3, '1.00 USD');
	SELECT payments.post_transfer(2, 3, '1.00 USD');
	ROLLBACK TO SAVEPOINT s;
	SELECT payments.post_transfer(2, 3, '3.00 USD');
	COMMIT;
});
# a replay posts nothing new
$node->safe_psql('postgres', q{SELECT payments.post_transfer(1, 2, '100.00 USD', 'fund')});
is(totals(), 'committed: 8',
	'committed transfers are counted, rolled-back ones and replays are not');

# refusals: each once, by SQLSTATE, caught or not, nested in a function or not
is($node->safe_psql('postgres', q{
	SELECT string_agg(try(sql), ' ' ORDER BY n) FROM (VALUES
	    (1, $$SELECT payments.post_transfer(2, 3, '1000.00 USD')$$),
	    (2, $$SELECT payments.post_transfer(3, 2, '1000.00 USD')$$),
	    (3, $$SELECT payments.post_transfer(1, 2, '5.00 USD', 'fund')$$),
	    (4, $$SELECT payments.post_transfer(2, 999, '1.00 USD')$$),
	    (5, $$SELECT pay_twice(60000)$$),
	    (6, $$SELECT payments.capture(999)$$)) AS r(n, sql)}),
	'23L01 23L01 23I01 23503 23L01 23503', 'six calls refused');
$node->psql('postgres', q{SELECT payments.post_transfer(2, 3, '1000.00 USD')});
is(totals(), 'committed: 8, refused 23503: 2, refused 23I01: 1, refused 23L01: 4',
	'each refusal is counted once, by its SQLSTATE, whoever caught it');

is($node->safe_psql('postgres', q{
	SELECT (SELECT sum(count) FROM payments.monitor_outcomes WHERE outcome = 'committed')
	       || ' ' || (SELECT sum(count) FROM payments.monitor_outcomes WHERE outcome = 'refused')
	       || ' ' || (SELECT count(DISTINCT minute) <= 2 AND min(minute) <= now() FROM payments.monitor_outcomes)}),
	'8 7 true', 'per minute, the same counts, in the minutes they happened');

$node->restart;
is(totals(), 'committed: 0', 'the counts start over with the server');
$node->safe_psql('postgres', q{SELECT payments.post_transfer(2, 3, '1.00 USD')});
is(totals(), 'committed: 1', 'and go on counting');

# without the library preloaded: nothing counted, nothing else changed
$node->append_conf('postgresql.conf', "shared_preload_libraries = ''\n");
$node->restart;
is($node->safe_psql('postgres', q{
	SELECT payments.post_transfer(2, 3, '1.00 USD') > 0,
	       try($$SELECT payments.post_transfer(2, 3, '1000.00 USD')$$),
	       (SELECT count(*) FROM payments.monitor_outcome_totals),
	       (SELECT count(*) FROM payments.monitor_outcomes)}),
	't|23L01|0|0', 'without shared_preload_libraries, posting and refusing work and the views are empty');
is($node->safe_psql('postgres', q{SELECT count(*) FROM payments.verify_ledger()}), '0',
	'verify_ledger() finds nothing');

done_testing();
