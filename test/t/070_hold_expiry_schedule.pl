# Holds expire on a schedule, run by a real scheduler: pg_cron (Debian's
# postgresql-15-cron), set up the way the README tells a DBA to.  A hold past
# its expires_at is released by the scheduled payments.expire_holds() without
# anyone calling it; a hold not yet expired, and one without expiry, are left
# alone; the job's runs succeed, and the books verify.
#
# pg_cron 1.4 schedules by the minute: this test waits for the next minute's
# run (at most about 60 s).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('expiry_schedule');
$node->init;
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'pg_cron'
cron.database_name = 'postgres'
cron.use_background_workers = on
max_worker_processes = 16
timezone = 'UTC'
});
$node->start;

# The ledger in a database of its own; pg_cron's catalog in cron.database_name.
$node->safe_psql('postgres', 'CREATE DATABASE ledger');
$node->safe_psql('ledger', q{
	CREATE EXTENSION payments CASCADE;
	SELECT payments.create_account('bank', 'USD', 'debit', true);
	SELECT payments.create_account('alice', 'USD');
	SELECT payments.create_account('shop', 'USD');
	SELECT payments.post_transfer_by_name('default', 'bank', 'alice', '100.00 USD');
});
$node->safe_psql('postgres', q{
	CREATE EXTENSION pg_cron;
	SELECT cron.schedule_in_database('payments-expire-holds', '* * * * *',
	                                 'SELECT payments.expire_holds()', 'ledger');
});

my ($soon, $later, $never) = split /\n/, $node->safe_psql('ledger', q{
	SELECT payments.hold(payments.account_id('alice'), payments.account_id('shop'), '30.00 USD',
	                     clock_timestamp() + interval '1 second');
	SELECT payments.hold(payments.account_id('alice'), payments.account_id('shop'), '20.00 USD',
	                     clock_timestamp() + interval '1 day');
	SELECT payments.hold(payments.account_id('alice'), payments.account_id('shop'), '10.00 USD');
});
is($node->safe_psql('ledger', q{SELECT payments.available_balance_by_name('default', 'alice')}), '40.00 USD',
	'three holds take 60.00 of 100.00');

ok($node->poll_query_until('ledger',
		"SELECT resolved_by IS NOT NULL FROM payments.holds WHERE hold_id = $soon"),
	'the scheduled sweep expired the hold past its expiry');
is($node->safe_psql('ledger', qq{
	SELECT string_agg(hold_id || ' ' || status || ' ' || held, ', ' ORDER BY hold_id)
	  FROM payments.holds}),
	"$soon expired 0.00 USD, $later pending 20.00 USD, $never pending 10.00 USD",
	'and only it');
is($node->safe_psql('ledger', q{SELECT payments.available_balance_by_name('default', 'alice') || ' ' || payments.balance_by_name('default', 'alice')}),
	'70.00 USD 100.00 USD', 'its amount is available again, nothing was posted');
is($node->safe_psql('ledger', qq{
	SELECT t.status || ' ' || t.amount FROM payments.transfers t WHERE t.pending_id = $soon}),
	'expired 30.00 USD', 'the expiry is a transfer naming the hold');
is($node->safe_psql('postgres', q{
	SELECT count(*) > 0 AND bool_and(d.status = 'succeeded')
	  FROM cron.job_run_details d JOIN cron.job j USING (jobid)
	 WHERE j.jobname = 'payments-expire-holds'}),
	't', 'the job ran, and every run succeeded');
is($node->safe_psql('ledger', 'SELECT count(*) FROM payments.verify_ledger()'), '0',
	'the books verify');

$node->stop;
done_testing();
