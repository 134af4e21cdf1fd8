# ALTER EXTENSION ... UPDATE from every released version, over a populated
# ledger, gives what a fresh install of the current version gives: the same
# objects, definitions, privileges, comments and trigger states (compared
# through pg_dump --binary-upgrade, which spells out every member object of
# an extension), and the same balances, with verify_ledger() empty.
#
# Also pinned here: a released install script is never edited (its checksum
# is in sql/released.sha256); every released version has a path of upgrade
# scripts in the tree to the current one, and the scripts installed are
# exactly the tree's (so a removed upgrade script fails here, instead of
# being served from an earlier install); and the library refuses the ledger
# of an older version until it is updated.
use strict;
use warnings;
use Digest::SHA;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $current = $ENV{EXTVERSION} or die "EXTVERSION is not set (run through make)";
my @extensions = ('monetary', 'payments');

# --- the scripts --------------------------------------------------------------

# Released versions: sql/<ext>--<version>.sql, frozen, each with its checksum.
my %released;
for my $ext (@extensions)
{
	$released{$ext} = [ sort map { m{^sql/\Q$ext\E--([0-9.]+)\.sql$} ? $1 : () } glob("sql/$ext--*.sql") ];
	ok(scalar @{ $released{$ext} }, "$ext has released versions: @{ $released{$ext} }");
}
my %checksum;
for my $line (split /\n/, slurp_file('sql/released.sha256'))
{
	my ($sum, $file) = split /\s+/, $line;
	$checksum{$file} = $sum;
}
for my $ext (@extensions)
{
	for my $v (@{ $released{$ext} })
	{
		my $file = "sql/$ext--$v.sql";
		ok(exists $checksum{$file}, "$file is listed in sql/released.sha256");
		is(Digest::SHA->new(256)->addfile($file)->hexdigest, $checksum{$file} // '',
			"$file is unchanged since its release");
	}
}

# Every released version reaches the current one through upgrade scripts of
# the tree, one step at a time.
for my $ext (@extensions)
{
	for my $v (@{ $released{$ext} })
	{
		my ($at, @path) = ($v);
		while ($at ne $current)
		{
			my @next = map { m{^sql/\Q$ext\E--\Q$at\E--([0-9.]+)\.sql$} ? $1 : () }
			  glob("sql/$ext--$at--*.sql");
			last unless @next == 1;
			push @path, "$at--$next[0]";
			$at = $next[0];
		}
		is($at, $current, "$ext $v upgrades to $current through the tree's scripts (@path)");
	}
}

# What is installed is the tree: no script left over from an earlier install.
my $sharedir = `pg_config --sharedir`;
chomp $sharedir;
for my $ext (@extensions)
{
	# (the current version's install script is built, not in sql/)
	my $built = "$ext--$current.sql";
	my %tree = map { (m{([^/]+)$})[0] => Digest::SHA->new(256)->addfile($_)->hexdigest }
	  glob("sql/$ext--*.sql");
	my %installed = map { (m{([^/]+)$})[0] => Digest::SHA->new(256)->addfile($_)->hexdigest }
	  grep { !m{/\Q$built\E$} } glob("$sharedir/extension/$ext--*.sql");
	is_deeply(\%installed, \%tree,
		"the installed scripts of $ext are the tree's (run make install after removing one)");
}

# --- a fresh install and an upgraded one ----------------------------------------

my $node = PostgreSQL::Test::Cluster->new('upgrade');
$node->init;
$node->start;

# Every member object of the extensions, as pg_dump --binary-upgrade writes
# it, without the OIDs that differ between any two installs.
sub schema_of
{
	my ($db) = @_;
	my ($stdout, $stderr);
	IPC::Run::run([ 'pg_dump', '--schema-only', '--binary-upgrade', '-d', $node->connstr($db) ],
		'>', \$stdout, '2>', \$stderr)
	  or die "pg_dump $db failed: $stderr";
	my @lines = grep {
		!/binary_upgrade_set_next_|^\\(un)?restrict |^-- Dumped (from|by) |^SELECT pg_catalog\.setval\(/
		  # the value rows from before a column was added read in it
		  && !/^-- set missing value\.$|binary_upgrade_set_missing_value\(/
	} split /\n/, $stdout;
	for (@lines)
	{
		# the config tables, by OID: compared by name below
		s/(binary_upgrade_create_empty_extension\(.*?), '\{[0-9,]*\}', '\{[^}]*\}',/$1, <config>,/;
		# transaction ids and toast tables' OIDs
		s/relfrozenxid = '\d+', relminmxid = '\d+'/relfrozenxid = <xid>, relminmxid = <mxid>/;
		s/^WHERE oid = '\d+';$/WHERE oid = <toast>;/;
	}
	my $schema = join("\n", @lines) . "\n";
	$schema =~ s/\n{3,}/\n\n/g;	# where lines were dropped
	return $schema;
}

# is() for long texts: on a mismatch, shows the diff rather than both texts.
sub same_text
{
	my ($got, $want, $name) = @_;
	return pass($name) if $got eq $want;
	my $dir = $node->basedir;
	PostgreSQL::Test::Utils::append_to_file("$dir/want", $want);
	PostgreSQL::Test::Utils::append_to_file("$dir/got", $got);
	my ($diff, $err);
	IPC::Run::run([ 'diff', '-u', "$dir/want", "$dir/got" ], '>', \$diff, '2>', \$err);
	unlink "$dir/want", "$dir/got";
	fail($name);
	diag($diff);
	return 0;
}

# What each extension registers for pg_dump, by name, in any order.
my $config_tables = q{
	SELECT string_agg(e.extname || ': ' || c.relname || coalesce(' ' || cond, ''), ', '
	                  ORDER BY e.extname, c.relname)
	  FROM pg_extension e,
	       LATERAL unnest(e.extconfig, e.extcondition) AS x(tab, cond)
	  JOIN pg_class c ON c.oid = x.tab};

# The ledger as analysts see it.
my $books = q{
	SELECT string_agg(x, E'\n' ORDER BY x) FROM (
	    SELECT format('%s %s %s %s %s', b.ledger, b.name, b.status, b.balance, b.available) AS x
	      FROM payments.account_balances b
	    UNION ALL
	    SELECT format('trial %s %s %s %s', ledger, currency, debits, credits) FROM payments.trial_balance
	    UNION ALL
	    -- the columns of 1.0 (1.1 adds entry_id, checked apart)
	    SELECT format('transfer %s', (t.id, t.ledger, t.idempotency_key, t.from_account,
	                                  t.to_account, t.amount, t.status, t.pending_id,
	                                  t.reverses, t.expires_at, t.metadata, t.created_at))
	      FROM payments.transfers t
	    UNION ALL
	    SELECT format('posting %s', (p.id, p.ledger, p.transfer_id, p.account_id, p.side,
	                                 p.amount, p.balance_after, p.created_at))
	      FROM payments.postings p
	    UNION ALL
	    SELECT format('rate %s', r) FROM payments.exchange_rates r) s};
# Balances as of a past time, read from the postings as an analyst would
# (the library refuses payments.balance() until the update), and through
# payments.balance() once updated: both must give the old figures.
my $past = q{(SELECT created_at FROM payments.postings ORDER BY id OFFSET 40 LIMIT 1)};
my $balance_at_sql = qq{
	SELECT string_agg(format('%s %s', a.name,
	           (SELECT p.balance_after FROM payments.postings p
	             WHERE p.account_id = a.id AND p.created_at <= $past
	             ORDER BY p.created_at DESC, p.id DESC LIMIT 1)), ', ' ORDER BY a.id)
	  FROM payments.accounts a};
my $balance_at = qq{
	SELECT string_agg(format('%s %s', a.name,
	           nullif(payments.balance(a.id, $past), monetary(0, a.currency))), ', ' ORDER BY a.id)
	  FROM payments.accounts a};

$node->safe_psql('postgres', 'CREATE DATABASE fresh');
$node->safe_psql('fresh', 'CREATE EXTENSION payments CASCADE');
my $fresh_schema = schema_of('fresh');
my $fresh_config = $node->safe_psql('fresh', $config_tables);
$node->safe_psql('postgres', 'CREATE DATABASE money_fresh');
$node->safe_psql('money_fresh', 'CREATE EXTENSION monetary');
my $money_fresh_schema = schema_of('money_fresh');

# Indexes a DBA may build beforehand, CONCURRENTLY, for the update from a
# version to take over instead of building them with the tables locked (and
# the column one of them needs).
my %prebuildable = (
	'1.0' => [
		'CREATE UNIQUE INDEX CONCURRENTLY transfers_pkey_1_1 ON payments.transfers (ledger, id)',
		'CREATE UNIQUE INDEX CONCURRENTLY postings_pkey_1_1 ON payments.postings (ledger, id)',
		'ALTER TABLE payments.postings ADD COLUMN stripe smallint',
		'CREATE INDEX CONCURRENTLY postings_stripe_idx_1_1 ON payments.postings (account_id, stripe, created_at, id) WHERE stripe IS NOT NULL',
		'CREATE UNIQUE INDEX CONCURRENTLY transfers_ledger_pending_id_key_1_1 ON payments.transfers (ledger, pending_id) WHERE pending_id IS NOT NULL',
		q{CREATE INDEX CONCURRENTLY transfers_holds_idx_1_1 ON payments.transfers (id) WHERE status = 'pending'},
		'CREATE INDEX CONCURRENTLY transfers_reverses_idx_1_1 ON payments.transfers (reverses) WHERE reverses IS NOT NULL',
		'ALTER TABLE payments.postings ADD COLUMN pending_change monetary, ADD COLUMN held_after monetary',
		'CREATE INDEX CONCURRENTLY postings_pending_idx_1_1 ON payments.postings (account_id, created_at, id) WHERE pending_change IS NOT NULL',
	]);
my $index_oids = q{
	SELECT string_agg(c.oid::text, ' ' ORDER BY regexp_replace(c.relname, '_1_1$', ''))
	  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	 WHERE n.nspname = 'payments' AND c.relkind = 'i' AND c.relname IN (%s)};

# Columns a DBA adds beforehand must come in a fresh install's order, or the
# updated schema would differ from it: the update refuses them.
$node->safe_psql('postgres', 'CREATE DATABASE from_1_0_misordered');
$node->safe_psql('from_1_0_misordered', q{
	CREATE EXTENSION monetary VERSION '1.0';
	CREATE EXTENSION payments VERSION '1.0';
	ALTER TABLE payments.postings ADD COLUMN pending_change monetary;
});
my ($ret0, $stdout0, $stderr0) = $node->psql('from_1_0_misordered', q{
	ALTER EXTENSION monetary UPDATE;
	ALTER EXTENSION payments UPDATE;
});
like($stderr0, qr/column payments\.postings\.pending_change comes before a column it should follow/,
	'prebuilt columns out of a fresh install\'s order are refused');
is($node->safe_psql('from_1_0_misordered', q{SELECT extversion FROM pg_extension WHERE extname = 'payments'}),
	'1.0', 'and the update rolled back');

for my $run (map { my $v = $_; ([ $v, 0 ], $prebuildable{$v} ? ([ $v, 1 ]) : ()) } @{ $released{payments} })
{
	my ($v, $prebuilt) = @$run;
	my $db = "from_$v" . ($prebuilt ? '_prebuilt' : '');
	$db =~ s/\./_/g;
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, qq{
		CREATE EXTENSION monetary VERSION '$v';
		CREATE EXTENSION payments VERSION '$v';
	});

	# A ledger written by release $v, loaded as a restore loads it.
	my $fixture = "test/t/data/ledger-$v.dump";
	ok(-f $fixture, "a ledger written by $v: $fixture");
	{
		local $ENV{PGOPTIONS} = '-c session_replication_role=replica';
		$node->command_ok([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr($db),
				'-f', $fixture ], "the $v ledger loads");
	}
	cmp_ok($node->safe_psql($db, 'SELECT count(*) FROM payments.transfers'), '>', 50,
		"the $v ledger holds transfers");
	is($node->safe_psql($db, 'SELECT count(*) FROM payments.verify_ledger()'), '0',
		"verify_ledger() finds nothing wrong at $v");
	# A loader of release $v could choose ids ahead of the sequence.
	my $ahead = $node->safe_psql($db, 'SELECT max(id) + 1000 FROM payments.accounts');
	{
		local $ENV{PGOPTIONS} = '-c session_replication_role=replica';
		$node->safe_psql($db, qq{
			INSERT INTO payments.accounts (id, name, currency, debits_posted, credits_posted,
			                               debits_pending, credits_pending)
			VALUES ($ahead, 'loaded-ahead', 'USD', '0 USD', '0 USD', '0 USD', '0 USD')});
	}
	my $books_before = $node->safe_psql($db, $books);
	my $at_before = $node->safe_psql($db, $balance_at_sql);

	# Until the update, this library refuses to run the older ledger.
	my ($ret, $stdout, $stderr) = $node->psql($db,
		q{SELECT payments.post_transfer('bank', 'user4', '1.00 USD')});
	like($stderr, qr/extension "payments" is at version \Q$v\E, but its library is version \Q$current\E/,
		"at $v, posting is refused by the $current library");
	like($stderr, qr/HINT:  Run ALTER EXTENSION monetary UPDATE, then ALTER EXTENSION payments UPDATE\./,
		'with a hint that says how to finish the upgrade');

	my ($taken_over, @names);
	if ($prebuilt)
	{
		# One built wrongly (not unique): the update refuses it and changes nothing.
		$node->safe_psql($db,
			'CREATE INDEX CONCURRENTLY postings_pkey_1_1 ON payments.postings (ledger, id)');
		($ret, $stdout, $stderr) = $node->psql($db, q{
			ALTER EXTENSION monetary UPDATE;
			ALTER EXTENSION payments UPDATE;
		});
		like($stderr, qr/index payments\.postings_pkey_1_1 is not the index this update builds/,
			"from $v, a prebuilt index of another definition is refused");
		is($node->safe_psql($db, q{SELECT extversion FROM pg_extension WHERE extname = 'payments'}),
			$v, 'and the update rolled back');
		$node->safe_psql($db, 'DROP INDEX CONCURRENTLY payments.postings_pkey_1_1');
		for my $create (@{ $prebuildable{$v} })
		{
			$node->safe_psql($db, $create);
			push @names, $create =~ /INDEX CONCURRENTLY (\S+)/;
		}
		$taken_over = $node->safe_psql($db, sprintf($index_oids, join(', ', map { "'$_'" } @names)));
	}
	$node->safe_psql($db, q{
		ALTER EXTENSION monetary UPDATE;
		ALTER EXTENSION payments UPDATE;
	});
	is($node->safe_psql($db, q{SELECT string_agg(extname || ' ' || extversion, ', ' ORDER BY extname)
	                            FROM pg_extension WHERE extname IN ('monetary', 'payments')}),
		"monetary $current, payments $current",
		"both updated from $v to $current" . ($prebuilt ? ', with indexes built beforehand' : ''));
	if ($prebuilt)
	{
		is($node->safe_psql($db, sprintf($index_oids, join(', ', map { "'" . s/_1_1$//r . "'" } @names))),
			$taken_over, 'the update took the prebuilt indexes over instead of building them');
	}

	same_text(schema_of($db), $fresh_schema,
		"updated from $v, the schema is a fresh install's of $current");
	is($node->safe_psql($db, $config_tables), $fresh_config,
		'the same tables are registered for pg_dump');
	is($node->safe_psql($db, $books), $books_before, 'every balance, transfer, posting and rate is unchanged');
	is($node->safe_psql($db, 'SELECT count(*) FROM payments.transfers WHERE entry_id <> 0'), '0',
		'transfers posted before entries existed belong to entry 0');
	is($node->safe_psql($db, $balance_at_sql), $at_before, 'and so are the running balances');
	is($node->safe_psql($db, $balance_at), $at_before, 'which payments.balance(account, at) reads');
	is($node->safe_psql($db, 'SELECT count(*) FROM payments.verify_ledger()'), '0',
		'verify_ledger() finds nothing wrong after the update');

	# The ledger goes on from where it was.
	is($node->safe_psql($db, q{
		SELECT payments.post_transfer(t.from_account, t.to_account, t.amount, t.idempotency_key,
		                              t.metadata) = t.id
		  FROM payments.transfers t WHERE t.idempotency_key = 'meter-2'}),
		't', 'a key posted by the old version replays to its transfer');
	cmp_ok($node->safe_psql($db, q{SELECT payments.create_account('opened-after', 'USD')}),
		'>', $ahead, 'an id a loader took ahead of the sequence is never handed out again');
	my $last = $node->safe_psql($db, 'SELECT max(id) FROM payments.transfers');
	cmp_ok($node->safe_psql($db, q{SELECT payments.post_transfer_by_name('default', 'user1', 'user5', '1.00 EUR')}),
		'>', $last, 'new transfers continue the id sequence');
	($ret, $stdout, $stderr) = $node->psql($db,
		q{SELECT payments.post_transfer_by_name('default', 'user4', 'user8', '1.00 BHD')});
	like($stderr, qr/account \d+ is frozen/, 'account states came along');
	is($node->safe_psql($db, 'SELECT count(*) FROM payments.verify_ledger()'), '0',
		'and the books still balance');

	# An account of the populated ledger made hot: nothing read changes.
	my $books_cold = $node->safe_psql($db, $books);
	my $at_cold = $node->safe_psql($db, $balance_at);
	$node->safe_psql($db, q{SELECT payments.set_hot(payments.account_id('user1'))});
	is($node->safe_psql($db, $books), $books_cold, 'making an account hot changes no balance');
	is($node->safe_psql($db, $balance_at), $at_cold, 'nor any balance as of a past time');
	my $user1 = $node->safe_psql($db, q{SELECT payments.balance_by_name('default', 'user1')});
	$node->safe_psql($db, q{
		SELECT payments.post_transfer_by_name('default', 'user5', 'user1', '2.00 EUR');
		SELECT payments.post_transfer_by_name('default', 'user5', 'user1', '3.00 EUR');
		SELECT payments.post_transfer_by_name('default', 'user1', 'user5', '4.00 EUR');
	});
	is($node->safe_psql($db, q{SELECT payments.balance_by_name('default', 'user1') - '1.00 EUR' = $$} . $user1 . q{$$::monetary}),
		't', 'the hot account takes credits on a stripe and a debit on its row');
	is($node->safe_psql($db, q{SELECT count(*) FILTER (WHERE stripe > 0) || ' ' || count(*) FILTER (WHERE stripe = 0)
	                             FROM payments.postings WHERE account_id = payments.account_id('user1')}),
		'2 1', 'two legs on a stripe, one on its row');
	is($node->safe_psql($db, 'SELECT count(*) FROM payments.verify_ledger()'), '0',
		'and the books balance with a hot account');

	# Payment flows on the updated ledger: a hold, its capture, a refund of
	# a transfer posted by 1.0.
	my $user5 = $node->safe_psql($db, q{SELECT payments.balance_by_name('default', 'user5')});
	is($node->safe_psql($db, q{
		SELECT payments.capture(payments.hold(payments.account_id('user5'),
		                                      payments.account_id('user1'), '2.00 EUR'), '1.50 EUR') > 0;
		SELECT payments.reverse_transfer(min(id), '0.25 EUR') > 0 FROM payments.transfers
		 WHERE from_account = payments.account_id('user5') AND entry_id = 0
		   AND currency(amount) = 'EUR';
		SELECT payments.balance_by_name('default', 'user5') - $$} . $user5 . q{$$::monetary
		       || ' ' || (SELECT count(*) FROM payments.open_holds)}),
		"t\nt\n-1.25 EUR 0", 'a hold captured in part and a 1.0 transfer refunded after the update');
	is($node->safe_psql($db, 'SELECT count(*) FROM payments.verify_ledger()'), '0',
		'and the books balance with payment flows');

	# A payment between currencies and its refund on the updated ledger.
	is($node->safe_psql($db, q{
		SELECT payments.set_rate('EUR', 'USD', 1.25, '2001-02-03', 'upgrade test');
		SELECT payments.create_fx_account('EUR') > 0 AND payments.create_fx_account('USD') > 0;
		SELECT payments.reverse_fx_transfer(payments.post_fx_transfer(payments.account_id('user5'),
		           payments.account_id('fees'), '0.10 EUR', 'USD', '2001-02-04')) > 0;
		SELECT string_agg(format('%s %s', currency, position), ', ' ORDER BY currency::text)
		  FROM payments.fx_positions;
		SELECT count(*) FROM payments.fx_entries}),
		"\nt\nt\nEUR 0.00 EUR, USD 0.00 USD\n2",
		'an FX payment and its refund after the update leave the FX positions at zero');
	is($node->safe_psql($db, 'SELECT count(*) FROM payments.verify_ledger()'), '0',
		'and the books balance with FX entries');

	# The change feed begins with the update: the transfers posted since,
	# none of those before.
	is($node->safe_psql($db, q{
		SELECT count(*) = (SELECT count(*) FROM payments.transfers t
		                    WHERE t.entry_id IN (SELECT entry_id FROM payments.entry_xacts))
		       AND count(*) > 0
		       AND count(*) < (SELECT count(*) FROM payments.transfers)
		  FROM payments.changes_since(NULL, 100000) WHERE id IS NOT NULL}),
		't', 'the change feed returns the transfers posted since the update, not those before');
}

for my $v (@{ $released{monetary} })
{
	my $db = "money_from_$v";
	$db =~ s/\./_/g;
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, qq{
		CREATE EXTENSION monetary VERSION '$v';
		CREATE TABLE amounts (m monetary);
		INSERT INTO amounts VALUES ('12.34 USD'), ('-0.001 BHD'), ('1.000000000000000001 ETH/18');
	});
	my $amounts = q{SELECT string_agg(m::text || ' ' || scale(currency(m)), ', ' ORDER BY m) FROM amounts};
	my $before = $node->safe_psql($db, $amounts);
	$node->safe_psql($db, 'ALTER EXTENSION monetary UPDATE');
	is($node->safe_psql($db, $amounts), $before, "amounts stored under monetary $v read the same after the update");
	$node->safe_psql($db, 'DROP TABLE amounts');
	same_text(schema_of($db), $money_fresh_schema,
		"monetary alone, updated from $v, is a fresh install's of $current");
}

$node->stop;
done_testing();
