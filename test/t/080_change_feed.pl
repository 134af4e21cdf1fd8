# A consumer follows the change feed while eight writers post transfers
# whose commits are randomly delayed (some by seconds, one in ten rolled
# back), and the server crashes and restarts under them.  The consumer
# stores each batch and its cursor in one transaction, as the README's loop
# does.  At the end it has seen every committed transfer exactly once, none
# that rolled back or was lost in the crash, and never went backwards: a
# transfer whose transaction had committed before another's wrote anything
# came first.
use strict;
use warnings;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

my $node = PostgreSQL::Test::Cluster->new('feed');
$node->init;
$node->append_conf('postgresql.conf', "max_connections = 30\n");
$node->start;

$node->safe_psql('postgres', q{
	CREATE EXTENSION payments CASCADE;
	SELECT payments.create_account('w' || i, 'USD', allow_negative => true)
	  FROM generate_series(1, 200) i;
	-- what the consumer saw: the call and the row within it give the order
	CREATE TABLE feed_seen (call int NOT NULL, rn int NOT NULL, transfer_id bigint NOT NULL,
	                        xact_id xid8 NOT NULL);
	CREATE TABLE feed_cursor (cursor text);
	INSERT INTO feed_cursor VALUES (NULL);
});

# One transfer, or two in one transaction; the first records in its metadata
# the snapshot taken before its transaction wrote anything.  Commits wait 0 to
# 50 ms, or 0.5 to 3 s in the slow script; one in ten rolls back.
my $script = $node->basedir . '/post.sql';
PostgreSQL::Test::Utils::append_to_file($script, q{
\set a random(1, 200)
\set b random(1, 199)
\set delay random(0, 50)
\set outcome random(1, 10)
\set two random(1, 3)
BEGIN;
SELECT payments.post_transfer_by_name('default', 'w' || :a, 'w' || ((:a + :b - 1) % 200 + 1),
       '0.01 USD', NULL, jsonb_build_object('seen', pg_current_snapshot()::text));
\if :two = 1
SELECT payments.post_transfer_by_name('default', 'w' || :a, 'w' || ((:a + :b - 1) % 200 + 1),
       '0.02 USD', NULL, '{"second": true}');
\endif
\sleep :delay ms
\if :outcome = 1
ROLLBACK;
\else
COMMIT;
\endif
});
my $slow = $node->basedir . '/slow.sql';
PostgreSQL::Test::Utils::append_to_file($slow, q{
\set a random(1, 200)
\set b random(1, 199)
\set delay random(500, 3000)
BEGIN;
SELECT payments.post_transfer_by_name('default', 'w' || :a, 'w' || ((:a + :b - 1) % 200 + 1),
       '0.03 USD', NULL, jsonb_build_object('seen', pg_current_snapshot()::text));
\sleep :delay ms
COMMIT;
});

sub start_writers
{
	my ($seconds) = @_;
	my ($out, $err) = ('', '');
	return IPC::Run::start(
		[ 'pgbench', '-n', '-c', '8', '-j', '2', '-T', $seconds, '--max-tries=20', '-f', "$script\@20",
		  '-f', "$slow\@1", '-h', $node->host, '-p', $node->port, 'postgres' ],
		'>', \$out, '2>', \$err);
}

# One step of the consumer: read up to 50 transfers after the stored cursor,
# store them and the last cursor returned, in one transaction.  Returns how
# many transfers it stored, or undef when the server is not there.
my $call = 0;
sub consume
{
	$call++;
	my ($rc, $stdout, $stderr) = $node->psql('postgres', qq{
		WITH got AS (
		    SELECT row_number() OVER () AS rn, f.*
		      FROM feed_cursor c, payments.changes_since(c.cursor, 50) f),
		stored AS (
		    INSERT INTO feed_seen SELECT $call, rn, id, xact_id FROM got WHERE id IS NOT NULL
		    RETURNING 1),
		moved AS (
		    UPDATE feed_cursor
		       SET cursor = coalesce((SELECT next_cursor FROM got ORDER BY rn DESC LIMIT 1), cursor)
		    RETURNING 1)
		SELECT (SELECT count(*) FROM stored) + 0 * (SELECT count(*) FROM moved)});
	return $rc == 0 ? $stdout : undef;
}

my $writers = start_writers(20);
my $seen = 0;
my $crashed = 0;
my $crash_at = time + 8;
my $until = time + 20;
while (time < $until)
{
	my $got = consume();
	$seen += $got if defined $got;
	if (!$crashed && time >= $crash_at && $seen > 0)
	{
		# a crash with transactions in progress, some of them for seconds
		$node->stop('immediate');
		$writers->finish;
		$node->start;
		$crashed = 1;
		$writers = start_writers(10);
		$until = time + 10;
	}
	usleep(20_000) unless $got;
}
$writers->finish;
ok($crashed, 'the server crashed while the consumer followed the feed');

# Drain: read until a call returns nothing new twice.
my $idle = 0;
while ($idle < 2)
{
	my $got = consume();
	die 'the consumer cannot read the feed' unless defined $got;
	$idle = $got == 0 ? $idle + 1 : 0;
}

my ($committed, $rolled_back) = split /\|/, $node->safe_psql('postgres', q{
	SELECT count(*), (SELECT last_value FROM payments.transfers_id_seq) - count(*)
	  FROM payments.transfers});
cmp_ok($committed, '>', 300, "writers committed $committed transfers");
cmp_ok($rolled_back, '>', 0, "$rolled_back transfer ids were drawn by transactions that rolled back or were lost in the crash");

is($node->safe_psql('postgres', q{SELECT count(*) - count(DISTINCT transfer_id) FROM feed_seen}),
	'0', 'no transfer was seen twice');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM payments.transfers t
	 WHERE NOT EXISTS (SELECT FROM feed_seen s WHERE s.transfer_id = t.id)}),
	'0', 'every committed transfer was seen');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM feed_seen s
	 WHERE NOT EXISTS (SELECT FROM payments.transfers t WHERE t.id = s.transfer_id)}),
	'0', 'no transfer that rolled back or was lost in the crash was seen');
# The order: ids do not follow commits (a consumer polling by id would have
# skipped these), the feed does.
my $late = $node->safe_psql('postgres', q{
	SELECT count(*) FROM feed_seen a
	 WHERE EXISTS (SELECT FROM feed_seen b
	                WHERE (b.call, b.rn) < (a.call, a.rn) AND b.transfer_id > a.transfer_id)});
cmp_ok($late, '>', 0, "$late transfers committed after a transfer with a higher id, and were seen");
is($node->safe_psql('postgres', q{
	SELECT count(*)
	  FROM feed_seen later
	  JOIN payments.transfers t ON t.id = later.transfer_id
	  JOIN feed_seen earlier
	    ON (earlier.call, earlier.rn) > (later.call, later.rn)
	   AND pg_visible_in_snapshot(earlier.xact_id, (t.metadata ->> 'seen')::pg_snapshot)}),
	'0', 'a transfer whose transaction committed before another wrote anything was seen first');
is($node->safe_psql('postgres', q{SELECT count(*) FROM payments.verify_ledger()}),
	'0', 'verify_ledger() finds nothing');

done_testing();
