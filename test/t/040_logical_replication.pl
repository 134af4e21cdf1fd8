# A logical replication subscriber of the ledger's tables.  Its apply worker
# runs with session_replication_role = replica, where the ledger's insert
# triggers step aside, so rows arrive exactly as the publisher wrote them
# (account volumes by UPDATE, transfers and postings by INSERT); the history
# guards fire ALWAYS, and the subscriber's history cannot be edited in
# replica mode either.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $publisher = PostgreSQL::Test::Cluster->new('publisher');
$publisher->init(allows_streaming => 'logical');
$publisher->start;
my $subscriber = PostgreSQL::Test::Cluster->new('subscriber');
$subscriber->init;
$subscriber->start;

$publisher->safe_psql('postgres', q{
	CREATE EXTENSION payments CASCADE;
	SELECT payments.set_rate('EUR', 'USD', 1.0834, '2024-01-01', 'ecb');
	SELECT payments.create_account('bank', 'USD', 'debit', true);
	SELECT payments.create_account('alice', 'USD');
	SELECT payments.create_account('bob', 'USD');
	SELECT payments.create_account('vault', 'ETH/18', 'debit', true, ledger => 'crypto');
	SELECT payments.create_account('carol', 'ETH/18', ledger => 'crypto');
	SELECT payments.post_transfer_by_name('default', 'bank', 'alice', '100.00 USD', 'dep-1');
	SELECT payments.post_transfer_by_name('default', 'alice', 'bob', '12.34 USD', 'pay-1', '{"memo": "lunch"}');
	CREATE PUBLICATION ledger FOR TABLE payments.accounts, payments.account_stripes,
	                                    payments.transfers, payments.postings,
	                                    payments.open_holds, payments.exchange_rates;
});
$subscriber->safe_psql('postgres', 'CREATE EXTENSION payments CASCADE');
my $connstr = $publisher->connstr . ' dbname=postgres';
$subscriber->safe_psql('postgres',
	"CREATE SUBSCRIPTION ledger CONNECTION '$connstr' PUBLICATION ledger");
$subscriber->wait_for_subscription_sync($publisher, 'ledger');

# Everything the subscriber must hold, as text.
my $snapshot = q{
	SELECT string_agg(x, E'\n' ORDER BY x) FROM (
	    SELECT format('%s', a) AS x FROM payments.accounts a
	    UNION ALL SELECT format('%s', t) FROM payments.transfers t
	    UNION ALL SELECT format('%s', s) FROM payments.account_stripes s
	    UNION ALL SELECT format('%s', p) FROM payments.postings p
	    UNION ALL SELECT format('%s', o) FROM payments.open_holds o
	    UNION ALL SELECT format('%s', r) FROM payments.exchange_rates r) s};

is($subscriber->safe_psql('postgres', $snapshot), $publisher->safe_psql('postgres', $snapshot),
	'the initial copy brings the ledger over exactly');

# The publisher goes on: bob made hot (his credits go to stripes), single
# transfers, a multi-row INSERT, a status change, a new rate, a refusal that
# leaves nothing behind.
$publisher->safe_psql('postgres', q{
	SELECT payments.set_hot(payments.account_id('bob'), true, 4);
	SELECT payments.post_transfer_by_name('default', 'alice', 'bob', monetary(i / 10.0, 'USD'), 'pay-loop-' || i)
	  FROM generate_series(1, 20) i;
	INSERT INTO payments.transfers (from_account, to_account, amount)
	SELECT a.id, b.id, '0.01 USD' FROM payments.accounts a, payments.accounts b
	 WHERE a.name = 'bob' AND b.name = 'alice' AND a.ledger = 'default' AND b.ledger = 'default';
	SELECT payments.post_transfer_by_name('crypto', 'vault', 'carol', '1.000000000000000001 ETH/18');
	SELECT payments.set_account_status_by_name('crypto', 'carol', 'frozen');
	SELECT payments.set_rate('EUR', 'USD', 1.0912, '2024-02-01', 'ecb');
	-- holds: one captured and refunded, one voided, one left open
	SELECT payments.reverse_transfer(payments.capture(payments.hold(payments.account_id('alice'),
	           payments.account_id('bob'), '3.00 USD')), '1.00 USD');
	SELECT payments.release(payments.hold(payments.account_id('alice'), payments.account_id('bob'),
	                                      '2.00 USD'));
	SELECT payments.hold(payments.account_id('alice'), payments.account_id('bob'), '4.00 USD');
});
my ($ret, $stdout, $stderr) = $publisher->psql('postgres',
	q{SELECT payments.post_transfer_by_name('default', 'bob', 'alice', '1000000.00 USD')});
like($stderr, qr/insufficient funds/, 'a refused transfer on the publisher');
$publisher->wait_for_catchup('ledger');

is($subscriber->safe_psql('postgres', $snapshot), $publisher->safe_psql('postgres', $snapshot),
	'the subscriber holds exactly what the publisher committed');
is($subscriber->safe_psql('postgres', 'SELECT count(*) FROM payments.verify_ledger()'), '0',
	'verify_ledger() finds nothing wrong on the subscriber');
is($subscriber->safe_psql('postgres',
		q{SELECT payments.balance_by_name('default', 'alice')::text || ' ' || payments.balance_by_name('default', 'bob')::text}),
	$publisher->safe_psql('postgres',
		q{SELECT payments.balance_by_name('default', 'alice')::text || ' ' || payments.balance_by_name('default', 'bob')::text}),
	'balances read the same on both');
cmp_ok($subscriber->safe_psql('postgres',
		q{SELECT count(*) FROM payments.postings WHERE stripe > 0}),
	'>', 0, 'legs on the stripes of a hot account are replicated, with the stripes');
is($subscriber->safe_psql('postgres',
		q{SELECT string_agg(status || ' ' || held, ', ' ORDER BY hold_id) FROM payments.holds}),
	'captured 0.00 USD, voided 0.00 USD, pending 4.00 USD',
	'holds, their resolutions and the open hold are replicated');
is($subscriber->safe_psql('postgres',
		q{SELECT status FROM payments.accounts WHERE name = 'carol'}),
	'frozen', 'account states are replicated');

# On the subscriber, history is guarded in replica mode too.
for my $stmt ('UPDATE payments.postings SET amount = amount',
	'DELETE FROM payments.transfers',
	'TRUNCATE payments.postings')
{
	($ret, $stdout, $stderr) = $subscriber->psql('postgres',
		"SET session_replication_role = replica; $stmt");
	like($stderr, qr/ERROR:  cannot (update|delete from|truncate) payments\./,
		"on the subscriber in replica mode, '$stmt' is refused");
}
is($subscriber->safe_psql('postgres', $snapshot), $publisher->safe_psql('postgres', $snapshot),
	'and changed nothing');

# The subscriber's ledger cannot be dropped by accident either.
($ret, $stdout, $stderr) = $subscriber->psql('postgres', 'DROP EXTENSION payments CASCADE');
like($stderr, qr/cannot drop extension payments: its ledger holds \d+ transfers/,
	'DROP EXTENSION is refused on the subscriber');

$subscriber->stop;
$publisher->stop;
done_testing();
