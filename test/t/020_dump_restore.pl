# pg_dump keeps the ledger, and a restore run with session_replication_role
# = replica brings it back exactly (the ledger triggers then stay out of the
# way, as for logical replication).  A restore without it is refused by the
# triggers, table by table, rather than posting every transfer a second time.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('dump');
$node->init;
$node->start;

$node->safe_psql('postgres', 'CREATE DATABASE books');
$node->safe_psql('books', q{
	CREATE EXTENSION payments CASCADE;
	SELECT payments.create_account('bank', 'USD', 'debit', true);
	SELECT payments.create_account('alice', 'USD', metadata => '{"tier": "gold"}');
	SELECT payments.create_account('bob', 'USD');
	SELECT payments.create_account('meter', 'USD/4', 'debit', true);
	SELECT payments.create_account('usage', 'USD/4');
	SELECT payments.create_account('vault', 'ETH/18', 'debit', true, ledger => 'crypto');
	SELECT payments.create_account('carol', 'ETH/18', ledger => 'crypto');
	SELECT payments.post_transfer_by_name('default', 'bank', 'alice', '100.00 USD', 'dep-1');
	SELECT payments.post_transfer_by_name('default', 'alice', 'bob', '12.34 USD', 'pay-1', '{"memo": "lunch"}');
	SELECT payments.post_transfer_by_name('default', 'meter', 'usage', '0.0042 USD/4');
	SELECT payments.post_transfer_by_name('crypto', 'vault', 'carol', '1.000000000000000001 ETH/18', 'dep-1');
	SELECT payments.set_account_status_by_name('default', 'bob', 'frozen');
	-- a hot account, with legs on a stripe and on its row
	SELECT payments.set_hot(payments.account_id('alice'), true, 4);
	SELECT payments.post_transfer_by_name('default', 'bank', 'alice', '5.00 USD');
	SELECT payments.post_transfer_by_name('default', 'alice', 'bank', '90.00 USD');
	-- payment flows: a hold captured in part and refunded, one voided, one open
	SELECT payments.reverse_transfer(payments.capture(payments.hold(payments.account_id('alice'),
	           payments.account_id('bank'), '2.00 USD'), '1.50 USD'), '0.50 USD');
	SELECT payments.release(payments.hold(payments.account_id('alice'), payments.account_id('bank'),
	                                      '0.50 USD'));
	SELECT payments.hold(payments.account_id('alice'), payments.account_id('bank'), '1.00 USD',
	                     now() + interval '1 day', 'open-hold');
});

# Everything a restore must bring back, as text.
my $snapshot = q{
	SELECT string_agg(x, E'\n' ORDER BY x) FROM (
	    SELECT format('%s', a) AS x FROM payments.accounts a
	    UNION ALL SELECT format('%s', s) FROM payments.account_stripes s
	    UNION ALL SELECT format('%s', t) FROM payments.transfers t
	    UNION ALL SELECT format('%s', p) FROM payments.postings p
	    UNION ALL SELECT format('%s', o) FROM payments.open_holds o
	    UNION ALL SELECT format('balance %s %s %s', name, balance, available)
	                FROM payments.account_balances) s};
my $before = $node->safe_psql('books', $snapshot);

my $dump = $node->basedir . '/books.dump';
$node->command_ok([ 'pg_dump', '-Fc', '-f', $dump, '-d', $node->connstr('books') ],
	'pg_dump of a database with a ledger');

# Without replica mode the triggers refuse the rows: nothing is posted twice.
$node->safe_psql('postgres', 'CREATE DATABASE refused');
$node->command_fails([ 'pg_restore', '-d', $node->connstr('refused'), $dump ],
	'a plain restore is refused');
is($node->safe_psql('refused',
		'SELECT (SELECT count(*) FROM payments.accounts) + (SELECT count(*) FROM payments.transfers)
		      + (SELECT count(*) FROM payments.postings)'),
	'0', 'a refused restore leaves no ledger rows behind');

# With replica mode it is exact.
$node->safe_psql('postgres', 'CREATE DATABASE restored');
{
	local $ENV{PGOPTIONS} = '-c session_replication_role=replica';
	$node->command_ok([ 'pg_restore', '--exit-on-error', '-d', $node->connstr('restored'), $dump ],
		'restore with session_replication_role = replica');
}
is($node->safe_psql('restored', $snapshot), $before,
	'accounts, transfers and postings come back exactly');
is($node->safe_psql('restored', 'SELECT count(*) FROM payments.verify_ledger()'),
	'0', 'verify_ledger() finds nothing in the restored ledger');

# The restored ledger goes on: sequences, keys and account states came along.
is($node->safe_psql('restored', q{
	SELECT payments.post_transfer_by_name('default', 'bank', 'alice', '100.00 USD', 'dep-1')
	     = (SELECT id FROM payments.transfers WHERE idempotency_key = 'dep-1' AND ledger = 'default')}),
	't', 'an idempotency key replayed after restore returns its transfer');
my $last_id = $node->safe_psql('restored', 'SELECT max(id) FROM payments.transfers');
cmp_ok($node->safe_psql('restored', q{SELECT payments.post_transfer_by_name('default', 'alice', 'bank', '0.10 USD')}),
	'>', $last_id, 'new transfers continue the restored id sequence');
my ($ret, $stdout, $stderr) = $node->psql('restored',
	q{SELECT payments.post_transfer_by_name('default', 'alice', 'bob', '1.00 USD')});
like($stderr, qr/account \d+ is frozen/, 'account states are restored');
is($node->safe_psql('restored', q{
	SELECT payments.capture(id) > 0 FROM payments.transfers WHERE idempotency_key = 'open-hold';
	SELECT count(*) FROM payments.open_holds}),
	"t\n0", 'the open hold is restored open, and can be captured');
is($node->safe_psql('restored', 'SELECT count(*) FROM payments.verify_ledger()'),
	'0', 'and the books still balance');

$node->stop;
done_testing();
