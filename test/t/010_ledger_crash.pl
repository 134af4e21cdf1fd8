# The ledger survives a crash in the middle of concurrent transfers: after
# an immediate shutdown (no checkpoint; recovery replays the WAL) every
# committed transfer has both its legs and its volumes, nothing half-done
# remains, and idempotency keys still answer with their original transfer.
use strict;
use warnings;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('crash');
$node->init;
$node->append_conf('postgresql.conf', "max_connections = 30\n");
$node->start;

$node->safe_psql('postgres', q{
	CREATE EXTENSION payments CASCADE;
	SELECT payments.create_account('source', 'USD', 'debit', true);
	SELECT payments.create_account('w' || i, 'USD') FROM generate_series(1, 20) i;
	SELECT payments.post_transfer_by_name('default', 'source', 'w' || i, '1000.00 USD', 'fund-' || i)
	  FROM generate_series(1, 20) i;
	-- what each client saw committed, written in the same transaction
	CREATE TABLE committed (transfer_id bigint PRIMARY KEY, of_entry boolean NOT NULL DEFAULT false);
	-- pgbench ends a client at its first error, and refusals for
	-- insufficient funds are expected here
	CREATE FUNCTION try_transfer(a int, b int, cents int) RETURNS void
	LANGUAGE plpgsql AS $$
	BEGIN
	    INSERT INTO committed
	    SELECT payments.post_transfer_by_name('default', 'w' || a, 'w' || b, monetary(cents / 100.0, 'USD'));
	EXCEPTION WHEN SQLSTATE '23L01' THEN
	    NULL;
	END $$;
	-- an entry of two transfers, a -> b and b -> c, all or none
	CREATE FUNCTION try_entry(a int, b int, c int, cents int) RETURNS void
	LANGUAGE plpgsql AS $$
	BEGIN
	    INSERT INTO committed
	    SELECT unnest(payments.post_transfers(ARRAY[
	        ROW(payments.account_id('w' || a), payments.account_id('w' || b),
	            monetary(cents / 100.0, 'USD'), NULL, NULL),
	        ROW(payments.account_id('w' || b), payments.account_id('w' || c),
	            monetary(cents / 2 / 100.0, 'USD'), NULL, NULL)]::payments.transfer_request[])),
	           true;
	EXCEPTION WHEN SQLSTATE '23L01' THEN
	    NULL;
	END $$;
});

# Each pgbench transaction posts one transfer, or an entry of two (one in
# three), and records the ids in the same transaction; a refusal
# (insufficient funds) leaves neither.
my $script = $node->basedir . '/transfer.sql';
PostgreSQL::Test::Utils::append_to_file($script, q{
\set a random(1, 20)
\set b random(1, 19)
\set cents random(1, 30000)
SELECT try_transfer(:a, (:a + :b - 1) % 20 + 1, :cents);
});
my $entry_script = $node->basedir . '/entry.sql';
PostgreSQL::Test::Utils::append_to_file($entry_script, q{
\set a random(1, 20)
\set b random(1, 18)
\set cents random(1, 30000)
SELECT try_entry(:a, (:a + :b - 1) % 20 + 1, (:a + :b) % 20 + 1, :cents);
});

my ($out, $err) = ('', '');
my $pgbench = IPC::Run::start(
	[ 'pgbench', '-n', '-c', '8', '-T', '60', '-f', "$script\@2", '-f', "$entry_script\@1",
	  '-h', $node->host, '-p', $node->port, 'postgres' ],
	'>', \$out, '2>', \$err);

# Let it run until a good number of transfers have committed, then crash.
$node->poll_query_until('postgres',
	'SELECT count(*) >= 300 FROM committed') or die 'pgbench made no progress';
$node->stop('immediate');
$pgbench->finish;
$node->start;

my $committed = $node->safe_psql('postgres', 'SELECT count(*) FROM committed');
cmp_ok($committed, '>=', 300, "$committed transfers committed before the crash");

is($node->safe_psql('postgres', 'SELECT count(*) FROM payments.verify_ledger()'),
	'0', 'verify_ledger() finds nothing after recovery');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM payments.transfers t
	 WHERE t.idempotency_key IS NULL
	   AND NOT EXISTS (SELECT FROM committed c WHERE c.transfer_id = t.id)}),
	'0', 'every recovered transfer was one a client saw commit');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM committed c
	 WHERE NOT EXISTS (SELECT FROM payments.transfers t WHERE t.id = c.transfer_id)}),
	'0', 'every transfer a client saw commit was recovered');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM payments.account_balances
	 WHERE name LIKE 'w%' AND balance < monetary(0, 'USD')}),
	'0', 'no wallet is negative');
is($node->safe_psql('postgres', q{
	SELECT sum(balance) FROM payments.account_balances WHERE name LIKE 'w%'}),
	'20000.00 USD', 'the wallets still hold exactly what was funded');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM (SELECT t.entry_id FROM payments.transfers t
	                        JOIN committed c ON c.transfer_id = t.id
	                       GROUP BY t.entry_id
	                      HAVING count(*) <> CASE WHEN bool_and(c.of_entry) THEN 2 ELSE 1 END
	                          OR bool_and(c.of_entry) <> bool_or(c.of_entry)) e}),
	'0', 'every recovered entry is whole: two transfers, or one');
cmp_ok($node->safe_psql('postgres', 'SELECT count(*) FROM committed WHERE of_entry'),
	'>', 0, 'entries of two transfers were among them');
is($node->safe_psql('postgres', q{
	SELECT payments.post_transfer_by_name('default', 'source', 'w7', '1000.00 USD', 'fund-7')
	     = (SELECT id FROM payments.transfers WHERE idempotency_key = 'fund-7')}),
	't', 'an idempotency key replayed after recovery returns its transfer');

# The ledger goes on working.
$node->safe_psql('postgres',
	q{SELECT payments.post_transfer_by_name('default', 'source', 'w1', '1.00 USD', 'after-crash')});
is($node->safe_psql('postgres', 'SELECT count(*) FROM payments.verify_ledger()'),
	'0', 'a transfer after recovery keeps the books consistent');

$node->stop;
done_testing();
