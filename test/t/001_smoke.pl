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

$node->safe_psql('postgres', 'CREATE EXTENSION payments');
is($node->safe_psql('postgres',
        "SELECT extversion FROM pg_extension WHERE extname = 'payments'"),
    '1.0', 'extension created');

$node->stop('immediate');
$node->start;

is($node->safe_psql('postgres',
        "SELECT extversion FROM pg_extension WHERE extname = 'payments'"),
    '1.0', 'extension still there after crash and restart');
is($node->safe_psql('postgres',
        "SELECT count(*) FROM pg_namespace WHERE nspname = 'payments'"),
    '1', 'schema payments still there after crash and restart');

$node->stop;
done_testing();
