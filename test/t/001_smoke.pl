# The extension survives a crash: created, then an immediate shutdown (no
# checkpoint, so recovery replays the WAL), then still there on restart.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('smoke');
$node->init;
$node->start;

$node->safe_psql('postgres', 'CREATE EXTENSION payments CASCADE');
my $versions = q{SELECT string_agg(e.extname || ' ' || e.extversion, ', ' ORDER BY e.extname)
                   FROM pg_extension e JOIN pg_available_extensions a ON a.name = e.extname
                  WHERE e.extname IN ('monetary', 'payments') AND e.extversion = a.default_version};
is($node->safe_psql('postgres', $versions),
    "monetary $ENV{EXTVERSION}, payments $ENV{EXTVERSION}",
    'CREATE EXTENSION payments CASCADE installs both extensions at the current version');

$node->stop('immediate');
$node->start;

is($node->safe_psql('postgres', $versions),
    "monetary $ENV{EXTVERSION}, payments $ENV{EXTVERSION}",
    'both extensions still there after crash and restart');
is($node->safe_psql('postgres',
        "SELECT count(*) FROM pg_namespace WHERE nspname = 'payments'"),
    '1', 'schema payments still there after crash and restart');

$node->stop;
done_testing();
