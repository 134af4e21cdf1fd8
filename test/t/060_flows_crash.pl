# The payment flows survive a crash under load: 8 clients make holds
# (expiring in 10 to 40 ms, in 0.2 to 2.5 s, in 5 minutes, or never),
# capture them in full or in part, void them, expire them with concurrent
# sweeps, and refund captures and purchases in part, racing one another,
# until an immediate shutdown in the middle.  After recovery:
#  - the books verify, no account that may not go negative is, pending
#    volumes are the open holds, open_holds the holds that still hold money;
#  - every hold, capture, void and refund a client saw commit is there, of
#    its kind, and no other; the expiries are those the sweeps saw commit;
#  - every hold resolved before the crash is resolved exactly once, by the
#    resolution the client saw, and cannot be captured or voided again;
#  - the ledger goes on: open holds can be captured, expire_holds() releases
#    the holds that expired, meanwhile or before the crash, and nothing is
#    left pending once the holds that never expire are voided.
use strict;
use warnings;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('flows_crash');
$node->init;
$node->append_conf('postgresql.conf', "max_connections = 30\n");
$node->start;

$node->safe_psql('postgres', q{
	CREATE EXTENSION payments CASCADE;
	SELECT payments.create_account('source', 'USD', 'debit', true);
	SELECT payments.create_account('c' || i, 'USD') FROM generate_series(1, 20) i;
	SELECT payments.create_account('m' || i, 'USD') FROM generate_series(1, 4) i;
	SELECT payments.post_transfer_by_name('default', 'source', 'c' || i, '1000.00 USD') FROM generate_series(1, 20) i;
	SELECT payments.post_transfer_by_name('default', 'source', 'm' || i, '100.00 USD') FROM generate_series(1, 4) i;
	-- what each client saw committed, written in the same transaction: the
	-- transfers its calls made, and how many holds each sweep expired
	CREATE TABLE committed (id bigint PRIMARY KEY, op text NOT NULL, target bigint,
	                        amount monetary NOT NULL);
	CREATE TABLE sweeps (n bigserial PRIMARY KEY, expired bigint NOT NULL);
	CREATE INDEX ON committed (op, id);
	CREATE FUNCTION usd(cents bigint) RETURNS monetary LANGUAGE sql IMMUTABLE
	    RETURN monetary(cents / 100.0, 'USD');
	-- a hold expiring in ttl_ms milliseconds, or never (0); refused for
	-- want of available funds
	CREATE FUNCTION try_hold(c int, m int, cents int, ttl_ms int) RETURNS void
	LANGUAGE plpgsql AS $$
	BEGIN
	    INSERT INTO committed
	    SELECT payments.hold(payments.account_id('c' || c), payments.account_id('m' || m),
	                         usd(cents), CASE WHEN ttl_ms > 0
	                                          THEN clock_timestamp() + ttl_ms * interval '1 ms' END),
	           'hold', NULL, usd(cents);
	EXCEPTION WHEN SQLSTATE '23L01' OR SQLSTATE '40001' THEN
	    NULL;
	END $$;
	-- the back-th latest hold: captured (pct percent of it, all of it if
	-- 0) or voided (pct null); refused if resolved or expired meanwhile
	CREATE FUNCTION try_resolve(back int, pct int) RETURNS void
	LANGUAGE plpgsql AS $$
	DECLARE
	    h committed;
	    asked monetary;
	BEGIN
	    SELECT * INTO h FROM committed WHERE op = 'hold' ORDER BY id DESC OFFSET back LIMIT 1;
	    IF NOT FOUND THEN
	        RETURN;
	    END IF;
	    asked := CASE WHEN pct > 0 THEN usd(greatest(round(amount(h.amount) * pct), 1)::bigint) END;
	    IF pct IS NULL THEN
	        INSERT INTO committed VALUES (payments.release(h.id), 'void', h.id, h.amount);
	    ELSE
	        INSERT INTO committed VALUES (payments.capture(h.id, asked), 'capture', h.id,
	                                      coalesce(asked, h.amount));
	    END IF;
	EXCEPTION WHEN SQLSTATE '55L03' OR SQLSTATE '55L04' OR SQLSTATE '40001' THEN
	    NULL;
	END $$;
	-- a refund of pct percent of the back-th latest capture or purchase (all
	-- that is left if 0): refused if it would exceed it, or if the merchant
	-- is short
	CREATE FUNCTION try_refund(back int, pct int) RETURNS void
	LANGUAGE plpgsql AS $$
	DECLARE
	    t committed;
	    made bigint;
	BEGIN
	    SELECT * INTO t FROM committed WHERE op IN ('capture', 'purchase')
	     ORDER BY id DESC OFFSET back LIMIT 1;
	    IF NOT FOUND THEN
	        RETURN;
	    END IF;
	    made := payments.reverse_transfer(t.id, CASE WHEN pct > 0 THEN
	                usd(greatest(round(amount(t.amount) * pct), 1)::bigint) END);
	    INSERT INTO committed
	    SELECT made, 'refund', t.id, amount FROM payments.transfers WHERE id = made;
	EXCEPTION WHEN SQLSTATE '23L02' OR SQLSTATE '23L01' OR SQLSTATE '40001' THEN
	    NULL;
	END $$;
	CREATE FUNCTION try_purchase(c int, m int, cents int) RETURNS void
	LANGUAGE plpgsql AS $$
	BEGIN
	    INSERT INTO committed
	    SELECT payments.post_transfer_by_name('default', 'c' || c, 'm' || m, usd(cents)), 'purchase', NULL, usd(cents);
	EXCEPTION WHEN SQLSTATE '23L01' OR SQLSTATE '40001' THEN
	    NULL;
	END $$;
	CREATE FUNCTION try_topup(c int, cents int) RETURNS void
	LANGUAGE plpgsql AS $$
	BEGIN
	    INSERT INTO committed
	    SELECT payments.post_transfer_by_name('default', 'source', 'c' || c, usd(cents)), 'topup', NULL, usd(cents);
	END $$;
	-- what a call answers: ok, or the SQLSTATE it was refused with
	CREATE FUNCTION try(call text) RETURNS text LANGUAGE plpgsql AS $$
	BEGIN
	    EXECUTE call;
	    RETURN 'ok';
	EXCEPTION WHEN OTHERS THEN
	    RETURN SQLSTATE;
	END $$;
});
my $setup_transfers = $node->safe_psql('postgres', 'SELECT max(id) FROM payments.transfers');

my %scripts = (
	hold => q{
\set c random(1, 20)
\set m random(1, 4)
\set cents random(100, 20000)
\set kind random(1, 20)
\set ttl case when :kind <= 4 then random(10, 40) when :kind <= 16 then random(200, 2500) when :kind <= 18 then 300000 else 0 end
SELECT try_hold(:c, :m, :cents, :ttl);
},
	capture => q{
\set back random(0, 39)
\set pct random(-60, 100)
SELECT try_resolve(:back, greatest(:pct, 0));
},
	void => q{
\set back random(0, 39)
SELECT try_resolve(:back, NULL);
},
	refund => q{
\set back random(0, 9)
\set pct random(-20, 70)
SELECT try_refund(:back, greatest(:pct, 0));
},
	purchase => q{
\set c random(1, 20)
\set m random(1, 4)
\set cents random(100, 20000)
SELECT try_purchase(:c, :m, :cents);
},
	topup => q{
\set c random(1, 20)
\set cents random(10000, 100000)
SELECT try_topup(:c, :cents);
},
	sweep => q{
INSERT INTO sweeps (expired) SELECT payments.expire_holds(20);
});
my %weights = (hold => 6, capture => 4, void => 2, refund => 3, purchase => 1, topup => 1,
	sweep => 1);
my @files;
for my $name (sort keys %scripts)
{
	my $file = $node->basedir . "/$name.sql";
	PostgreSQL::Test::Utils::append_to_file($file, $scripts{$name});
	push @files, '-f', "$file\@$weights{$name}";
}

my ($out, $err) = ('', '');
my $pgbench = IPC::Run::start(
	[ 'pgbench', '-n', '-c', '8', '-T', '60', @files,
	  '-h', $node->host, '-p', $node->port, 'postgres' ],
	'>', \$out, '2>', \$err);

# Crash once every kind of call has committed a good number of times.
$node->poll_query_until('postgres', q{
	SELECT count(*) FILTER (WHERE op = 'capture') >= 500
	   AND count(*) FILTER (WHERE op = 'void') >= 100
	   AND count(*) FILTER (WHERE op = 'refund') >= 200
	   AND (SELECT sum(expired) FROM sweeps) >= 100
	  FROM committed})
  or die "pgbench made no progress: $err";
$node->stop('immediate');
$pgbench->finish;
# pgbench must have lost its connections to the crash, not died before
like($err, qr/server closed the connection|terminating connection|connection to server/i,
	'the clients were under way when the server stopped');
# Until then no client met an error it did not expect (it would have been
# logged, and its client aborted), nor a deadlock.
my @errors = grep { /ERROR:|deadlock/ } split /\n/, slurp_file($node->logfile);
is(scalar(@errors), 0, 'no error and no deadlock in the server log under load')
  or diag(join("\n", @errors[0 .. ($#errors < 9 ? $#errors : 9)]));
$node->start;

my %committed = split /[|\n]/, $node->safe_psql('postgres', q{
	SELECT op, count(*) FROM committed GROUP BY op
	UNION ALL SELECT 'expiry', sum(expired) FROM sweeps});
note(join(', ', map { "$_ $committed{$_}" } sort keys %committed));
for my $op (qw(hold capture void refund purchase expiry))
{
	cmp_ok($committed{$op} // 0, '>', 0, "$op: some committed before the crash");
}

is($node->safe_psql('postgres', 'SELECT count(*) FROM payments.verify_ledger()'),
	'0', 'verify_ledger() finds nothing after recovery');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM committed c
	  LEFT JOIN payments.transfers t ON t.id = c.id
	 WHERE t.id IS NULL OR t.amount <> c.amount OR NOT CASE c.op
	       WHEN 'hold' THEN t.status = 'pending'
	       WHEN 'capture' THEN t.status = 'posted' AND t.pending_id = c.target
	       WHEN 'void' THEN t.status = 'voided' AND t.pending_id = c.target
	       WHEN 'refund' THEN t.status = 'posted' AND t.reverses = c.target
	       ELSE t.status = 'posted' AND t.pending_id IS NULL AND t.reverses IS NULL END}),
	'0', 'every transfer a client saw commit was recovered, of its kind');
is($node->safe_psql('postgres', qq{
	SELECT count(*) FROM payments.transfers t
	 WHERE t.id > $setup_transfers AND t.status <> 'expired'
	   AND NOT EXISTS (SELECT FROM committed c WHERE c.id = t.id)}),
	'0', 'every recovered hold, capture, void and refund was one a client saw commit');
is($node->safe_psql('postgres', q{
	SELECT (SELECT count(*) FROM payments.transfers WHERE status = 'expired')
	       = (SELECT sum(expired) FROM sweeps)}),
	't', 'the recovered expiries are those the sweeps saw commit');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM payments.account_balances
	 WHERE name <> 'source' AND (balance < '0 USD' OR available < '0 USD')}),
	'0', 'no customer or merchant is negative, posted or available');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM payments.accounts a
	 WHERE (a.debits_pending, a.credits_pending)
	       <> (SELECT coalesce(sum(h.held) FILTER (WHERE h.from_account = a.id), '0 USD'),
	                  coalesce(sum(h.held) FILTER (WHERE h.to_account = a.id), '0 USD')
	             FROM payments.holds h JOIN payments.open_holds o ON o.id = h.hold_id)}),
	'0', "each account's pending volumes are the sum of its open holds");
is($node->safe_psql('postgres', q{
	SELECT (SELECT count(*) FROM payments.open_holds)
	       = (SELECT count(*) FROM payments.holds WHERE amount(held) > 0)}),
	't', 'open_holds has as many rows as there are holds with held > 0');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM (SELECT pending_id FROM payments.transfers WHERE pending_id IS NOT NULL
	                       GROUP BY 1 HAVING count(*) > 1) d}),
	'0', 'no hold is resolved more than once');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM (SELECT t.id FROM payments.transfers t
	                        JOIN payments.transfers r ON r.reverses = t.id
	                       GROUP BY t.id, t.amount HAVING sum(r.amount) > t.amount) o}),
	'0', 'no transfer is reversed beyond its amount');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM committed c
	 WHERE c.op IN ('capture', 'void')
	   AND (SELECT array_agg(r.id) FROM payments.transfers r WHERE r.pending_id = c.target)
	       IS DISTINCT FROM ARRAY[c.id]}),
	'0', 'every hold a client saw resolved is resolved once, by that resolution');

# Those holds, and the expired ones, stay resolved: a capture or a void of
# any of them is refused, as already resolved (55L03) or as expired (55L04).
is($node->safe_psql('postgres', q{
	SELECT string_agg(DISTINCT CASE WHEN r.status = 'expired' THEN 'expired ' ELSE 'resolved ' END
	                  || try(format('SELECT payments.%s(%s)',
	                                CASE WHEN r.id % 2 = 0 THEN 'capture' ELSE 'release' END,
	                                r.pending_id)), ', ')
	  FROM payments.transfers r WHERE r.pending_id IS NOT NULL}),
	'expired 55L04, resolved 55L03',
	'a hold resolved before the crash can be neither captured nor voided again');

# The ledger goes on: the open holds that have not expired can be captured
# (those that expire in 5 minutes, some in part) ...
my $capturable = $node->safe_psql('postgres', q{
	SELECT count(*) FROM payments.holds h JOIN payments.open_holds o ON o.id = h.hold_id
	 WHERE h.expires_at > now() + interval '1 minute'});
cmp_ok($capturable, '>', 0, "$capturable open holds that expire in 5 minutes survived the crash");
is($node->safe_psql('postgres', q{
	SELECT string_agg(DISTINCT answer, ', ')
	  FROM (SELECT try(format('SELECT payments.capture(%s, %L)', h.hold_id,
	                          CASE WHEN h.hold_id % 2 = 0
	                               THEN usd(greatest(round(amount(h.amount) * 50), 1)::bigint) END)) AS answer
	          FROM payments.holds h JOIN payments.open_holds o ON o.id = h.hold_id
	         WHERE h.expires_at > now() + interval '1 minute') a}),
	'ok', 'each of them can be captured after recovery');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM payments.open_holds
	 WHERE expires_at > now() + interval '1 minute'}),
	'0', 'and is no longer open');

# ... and once the last of the others has expired, a capture is refused as
# expired, and expire_holds() releases them all.
$node->safe_psql('postgres', q{
	SELECT pg_sleep_until(max(expires_at) + interval '10 ms') FROM payments.open_holds
	 WHERE expires_at < now() + interval '1 minute'});
my $due = $node->safe_psql('postgres',
	'SELECT count(*) FROM payments.open_holds WHERE expires_at <= now()');
cmp_ok($due, '>', 0, "$due holds expired unswept across the crash");
is($node->safe_psql('postgres', q{
	SELECT try(format('SELECT payments.capture(%s)', min(id)))
	  FROM payments.open_holds WHERE expires_at <= now()}),
	'55L04', 'an expired hold can no longer be captured');
is($node->safe_psql('postgres', 'SELECT payments.expire_holds()'), $due,
	'expire_holds() expires every one of them');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM payments.holds
	 WHERE expires_at IS NOT NULL AND (amount(held) > 0 OR resolved_by IS NULL)}),
	'0', 'every hold with an expiry is now resolved, and holds nothing');
is($node->safe_psql('postgres', q{SELECT count(*) FROM payments.open_holds WHERE expires_at IS NOT NULL}),
	'0', 'no hold with an expiry is left open');
is($node->safe_psql('postgres', q{
	SELECT count(payments.release(hold_id)) > 0 FROM payments.holds WHERE resolved_by IS NULL}),
	't', 'the holds that never expire can still be voided');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM payments.account_balances b JOIN payments.accounts a ON a.id = b.account_id
	 WHERE b.available <> b.balance OR amount(a.debits_pending) <> 0 OR amount(a.credits_pending) <> 0}),
	'0', 'nothing is pending any more: every available balance is the balance');
is($node->safe_psql('postgres', q{
	SELECT sum(balance) FILTER (WHERE name <> 'source') = sum(balance) FILTER (WHERE name = 'source')
	  FROM payments.account_balances}),
	't', 'what the source paid out is what the customers and merchants hold');
is($node->safe_psql('postgres', 'SELECT count(*) FROM payments.verify_ledger()'),
	'0', 'and the books still verify');

$node->stop;
done_testing();
