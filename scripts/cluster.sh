# Shared set-up for run.sh, test.sh and bench.sh: sourced, not executed.
#
# Gives a throwaway PostgreSQL 15 cluster living in .run/ of the checkout,
# reachable only through the Unix socket .run/socket on port 5499, with the
# freshly built extension installed and created in database "payments".

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
RUN_DIR=$ROOT/.run
PGDATA_DIR=$RUN_DIR/data
SOCKET_DIR=$RUN_DIR/socket
LOG_FILE=$RUN_DIR/postgres.log
# Debian's PostgreSQL 15; a developer may point PG_BINDIR at a relocated copy
# of it, so that two checkouts can install and test side by side.
PG_BINDIR=${PG_BINDIR:-/usr/lib/postgresql/15/bin}

# What the suites, stress and bench scripts connect with; PG 15's own tools
# (psql, pgbench, pg_dump) come first on PATH.
export PGHOST=$SOCKET_DIR PGPORT=5499 PGUSER=postgres PGDATABASE=payments
export PATH=$PG_BINDIR:$PATH
export MAKEFLAGS="${MAKEFLAGS:-} --no-print-directory"

PACKAGES=(postgresql-15 postgresql-server-dev-15 postgresql-15-pgtap postgresql-15-cron
          libtap-parser-sourcehandler-pgtap-perl libipc-run-perl
          make gcc libc6-dev rsync acl python3 python3-psycopg
          curl prometheus-postgres-exporter)
# Commands any package may provide (Node.js from NodeSource brings its own
# npm, and conflicts with Debian's): installed from Debian only if missing.
COMMANDS=(node:nodejs npm:npm)

say() { printf '\n==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
is_root() { [[ $(id -u) -eq 0 ]]; }

# Root may not run the server (initdb and postgres refuse), so the cluster
# belongs to the postgres OS user then; otherwise to whoever runs us.
as_owner() {
    if is_root; then runuser -u postgres -- "$@"; else "$@"; fi
}

# Runs a command as root: directly, or through sudo when there is one.
as_root() {
    if is_root; then "$@"
    elif command -v sudo >/dev/null; then sudo "$@"
    else die "need root for: $*  (no sudo here; run it as root)"
    fi
}

psql_q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }

install_packages() {
    local missing=() p
    for p in "${PACKAGES[@]}"; do
        dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
    done
    for p in "${COMMANDS[@]}"; do
        command -v "${p%%:*}" >/dev/null || missing+=("${p#*:}")
    done
    ((${#missing[@]})) || return 0
    if ! is_root && ! command -v sudo >/dev/null; then
        die "missing Debian packages; as root run: apt-get install -y ${missing[*]}"
    fi
    say "installing ${missing[*]}"
    as_root apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
}

# The PostgreSQL 15 we build against, whatever else is installed; make test
# and CI also turn warnings into errors (WERROR=1).
MAKE_ARGS=(PG_CONFIG="$PG_BINDIR/pg_config")

build_and_install() {
    say "building and installing the extensions"
    make -C "$ROOT" -j"$(nproc)" "${MAKE_ARGS[@]}"
    # Installing into the system's PostgreSQL needs root.
    if is_root; then make -C "$ROOT" "${MAKE_ARGS[@]}" install
    else as_root make -C "$ROOT" "${MAKE_ARGS[@]}" install
    fi
}

# CI may clone under /root (mode 700): the postgres user must be able to
# reach .run/ through every ancestor directory.
grant_traverse() {
    is_root || return 0
    local dir=/ part parts
    IFS=/ read -ra parts <<<"${ROOT#/}"
    # From the top down, since a directory is reachable only through its parents.
    for part in "${parts[@]}"; do
        dir=${dir%/}/$part
        if ! runuser -u postgres -- test -x "$dir"; then
            say "granting the postgres user traverse rights on $dir (setfacl -m u:postgres:x)"
            setfacl -m u:postgres:x "$dir" ||
                die "cannot grant the postgres user access to $dir; move the checkout"
        fi
    done
}

init_cluster() {
    say "creating a new cluster in $PGDATA_DIR"
    rm -rf "$PGDATA_DIR" "$SOCKET_DIR"
    as_owner "$PG_BINDIR/initdb" -D "$PGDATA_DIR" -U postgres --auth=trust \
        --encoding=UTF8 --locale=C.UTF-8 >/dev/null
    echo "include 'payments_dev.conf'" >>"$PGDATA_DIR/postgresql.conf"
}

# Settings are rewritten at every start, so that a moved checkout still puts
# its socket inside itself.
write_settings() {
    as_owner tee "$PGDATA_DIR/payments_dev.conf" >/dev/null <<EOF
listen_addresses = ''
port = $PGPORT
unix_socket_directories = '$SOCKET_DIR'
max_connections = 100
shared_buffers = 256MB
max_prepared_transactions = 20
fsync = on
timezone = 'UTC'
log_line_prefix = '%m [%p] %q%u@%d '
# counts refusals by SQLSTATE (payments.monitor_outcomes); optional
shared_preload_libraries = 'payments'
EOF
}

start_cluster() {
    as_owner mkdir -p "$SOCKET_DIR"
    write_settings
    as_owner "$PG_BINDIR/pg_ctl" -D "$PGDATA_DIR" -l "$LOG_FILE" -w -t 60 start >/dev/null
}

# Is the pid in postmaster.pid a live server on our data directory (and not
# a dead one's pid, recycled by some unrelated process)?
postmaster_alive() {
    local pid
    pid=$(head -n 1 "$PGDATA_DIR/postmaster.pid" 2>/dev/null) || return 1
    [[ $pid =~ ^[0-9]+$ && $(readlink "/proc/$pid/cwd" 2>/dev/null) == "$PGDATA_DIR" ]]
}

# Reuses a running cluster (waiting while it recovers from a crash), restarts
# a stopped one, and recreates one that cannot start.
ensure_cluster() {
    if is_root; then install -d -o postgres -g postgres "$RUN_DIR"; else mkdir -p "$RUN_DIR"; fi
    grant_traverse
    if postmaster_alive; then
        for _ in {1..60}; do
            if "$PG_BINDIR/pg_isready" -q; then
                # the server keeps the library it preloaded until it restarts
                if [[ $("$PG_BINDIR/pg_config" --pkglibdir)/payments.so -nt $PGDATA_DIR/postmaster.pid ]]; then
                    say "restarting the cluster in $PGDATA_DIR: it preloads the library just installed"
                    write_settings
                    as_owner "$PG_BINDIR/pg_ctl" -D "$PGDATA_DIR" -l "$LOG_FILE" -w -t 60 -m fast restart >/dev/null
                else
                    say "reusing the cluster running in $PGDATA_DIR"
                fi
                return
            fi
            sleep 1
        done
        say "the running cluster does not answer: restarting it"
        as_owner "$PG_BINDIR/pg_ctl" -D "$PGDATA_DIR" -m immediate -w stop >/dev/null || true
    fi
    # Lock files left by a dead server would stop the next one if their pid
    # has been recycled.
    rm -f "$PGDATA_DIR/postmaster.pid" "$SOCKET_DIR/.s.PGSQL.$PGPORT"*
    if [[ $(cat "$PGDATA_DIR/PG_VERSION" 2>/dev/null) != 15 ]]; then
        init_cluster
    fi
    say "starting the cluster (log: $LOG_FILE)"
    if ! start_cluster; then
        tail -n 20 "$LOG_FILE" >&2 || true
        say "the old cluster would not start: recreating it"
        init_cluster
        start_cluster || { tail -n 50 "$LOG_FILE" >&2; die "the cluster did not start"; }
    fi
}

# Recreates the database, so that the rebuilt extensions are picked up: the
# demo's ledger holds transfers, and the extension refuses to be dropped
# with them, so the database goes instead.
create_extension() {
    say "creating database payments with extensions monetary and payments"
    psql_q -d postgres -c "SET client_min_messages = warning" \
                       -c "DROP DATABASE IF EXISTS payments WITH (FORCE)" \
                       -c "CREATE DATABASE payments"
    psql_q -d payments -c "CREATE EXTENSION payments CASCADE"
}

setup() {
    install_packages
    build_and_install
    ensure_cluster
    create_extension
}

connect_hint() {
    cat <<EOF

Connect with:
    psql -h $SOCKET_DIR -p $PGPORT -U postgres payments
Stop with:
    make stop        (make clean-run also deletes .run/)
EOF
}
