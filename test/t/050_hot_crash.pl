# A hot fee account survives a crash under load: 8 clients pay fees into it
# (on its stripes) while payouts sweep it (on its row, every stripe locked);
# after an immediate shutdown and recovery every committed transfer is there
# and no other, the books verify, the fee account never went below zero, and
# its balance as of each of its legs' times is the sum of its legs up to
# then, over all its stripes.
use strict;
use warnings;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('hot_crash');
$node->init;
$node->append_conf('postgresql.conf', "max_connections = 30\n");
$node->start;

$node->safe_psql('postgres', q{
	CREATE EXTENSION payments CASCADE;
	SELECT payments.create_account('source', 'USD', 'debit', true);
	SELECT payments.create_account('fees', 'USD');
	SELECT payments.create_account('w' || i, 'USD') FROM generate_series(1, 20) i;
	SELECT payments.post_transfer_by_name('default', 'source', 'w' || i, '1000.00 USD') FROM generate_series(1, 20) i;
	SELECT payments.post_transfer_by_name('default', 'w1', 'fees', '5.00 USD');
	SELECT payments.set_hot(payments.account_id('fees'), true, 8);
	-- what each client saw committed, written in the same transaction
	CREATE TABLE committed (transfer_id bigint PRIMARY KEY, payout boolean NOT NULL);
	CREATE FUNCTION try_fee(a int, cents int) RETURNS void LANGUAGE plpgsql AS $$
	BEGIN
	    INSERT INTO committed
	    SELECT payments.post_transfer_by_name('default', 'w' || a, 'fees', monetary(cents / 100.0, 'USD')), false;
	EXCEPTION WHEN SQLSTATE '23L01' THEN
	    NULL;
	END $$;
	-- a payout sweeps what the fee account holds, and a cent more one time
	-- in four: that one must be refused
	CREATE FUNCTION try_payout(extra int) RETURNS void LANGUAGE plpgsql AS $$
	BEGIN
	    INSERT INTO committed
	    SELECT payments.post_transfer_by_name('default', 'fees', 'source', b.available + monetary(extra / 100.0, 'USD')), true
	      FROM payments.account_balances b
	     WHERE b.name = 'fees' AND b.available + monetary(extra / 100.0, 'USD') > '0 USD';
	EXCEPTION WHEN SQLSTATE '23L01' THEN
	    NULL;
	END $$;
});

my $fee_script = $node->basedir . '/fee.sql';
PostgreSQL::Test::Utils::append_to_file($fee_script, q{
\set a random(1, 20)
\set cents random(1, 2000)
SELECT try_fee(:a, :cents);
});
my $payout_script = $node->basedir . '/payout.sql';
PostgreSQL::Test::Utils::append_to_file($payout_script, q{
\set extra random(-3, 1)
SELECT try_payout(greatest(:extra, 0));
});

my ($out, $err) = ('', '');
my $pgbench = IPC::Run::start(
	[ 'pgbench', '-n', '-c', '8', '-T', '60', '-f', "$fee_script\@10", '-f', "$payout_script\@1",
	  '-h', $node->host, '-p', $node->port, 'postgres' ],
	'>', \$out, '2>', \$err);

$node->poll_query_until('postgres',
	'SELECT count(*) >= 600 AND count(*) FILTER (WHERE payout) >= 10 FROM committed')
  or die "pgbench made no progress: $err";
$node->stop('immediate');
$pgbench->finish;
$node->start;

my $fees = $node->safe_psql('postgres', q{SELECT payments.account_id('fees')});
my $committed = $node->safe_psql('postgres', 'SELECT count(*) FROM committed');
cmp_ok($committed, '>=', 600, "$committed transfers committed before the crash");
cmp_ok($node->safe_psql('postgres', 'SELECT count(*) FROM committed WHERE payout'),
	'>=', 10, 'payouts among them');
cmp_ok($node->safe_psql('postgres',
	"SELECT count(DISTINCT stripe) FROM payments.postings WHERE account_id = $fees AND stripe > 0"),
	'>', 1, 'fees went to several stripes of the hot account');

is($node->safe_psql('postgres', 'SELECT count(*) FROM payments.verify_ledger()'),
	'0', 'verify_ledger() finds nothing after recovery');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM payments.transfers t
	 WHERE t.id > 21 AND NOT EXISTS (SELECT FROM committed c WHERE c.transfer_id = t.id)}),
	'0', 'every recovered transfer was one a client saw commit');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM committed c
	 WHERE NOT EXISTS (SELECT FROM payments.transfers t WHERE t.id = c.transfer_id)}),
	'0', 'every transfer a client saw commit was recovered');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM payments.account_balances
	 WHERE name <> 'source' AND available < monetary(0, 'USD')}),
	'0', 'no account that may not go negative is negative, the hot one included');
is($node->safe_psql('postgres', qq{
	SELECT count(*) FROM payments.postings p
	 WHERE p.account_id = $fees AND payments.balance($fees, p.created_at) < '0 USD'}),
	'0', 'the fee account was never below zero at any of its legs');
is($node->safe_psql('postgres', qq{
	SELECT count(*) FROM payments.postings p
	 WHERE p.account_id = $fees
	   AND payments.balance($fees, p.created_at)
	       <> (SELECT sum(CASE q.side WHEN 'credit' THEN q.amount ELSE - q.amount END)
	             FROM payments.postings q
	            WHERE q.account_id = $fees AND q.created_at <= p.created_at)}),
	'0', 'its balance as of each leg is the sum of its legs up to then, over all stripes');
is($node->safe_psql('postgres', q{
	SELECT sum(balance) FILTER (WHERE name <> 'source') = sum(balance) FILTER (WHERE name = 'source')
	  FROM payments.account_balances}),
	't', 'what the source paid out is what the wallets and the fee account hold');

# The ledger goes on: a payout of everything, and the fee account at zero.
$node->safe_psql('postgres', q{SELECT try_payout(0)});
is($node->safe_psql('postgres', q{SELECT payments.balance_by_name('default', 'fees')}), '0.00 USD',
	'a sweep after recovery empties the fee account exactly');
is($node->safe_psql('postgres', 'SELECT count(*) FROM payments.verify_ledger()'),
	'0', 'and the books still verify');

$node->stop;
done_testing();
