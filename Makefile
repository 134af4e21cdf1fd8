# payments: PGXS build plus the developer entry points.
#   make / make install     build and install the extension
#   make run                set up a throwaway cluster in .run/ and run the demo
#   make test               same set-up, then every test suite (see scripts/test.sh)
#   make bench              same set-up, then test/bench/*.sh
#   make stop / clean-run   stop the cluster / also delete .run/

EXTENSION   = payments
MODULE_big  = payments
OBJS        = $(patsubst %.c,%.o,$(wildcard src/*.c))
PGFILEDESC  = "payments - double-entry payments ledger"

# The 1.0 install script is assembled from numbered pieces; upgrade scripts
# (sql/payments--A--B.sql) are shipped as they are.
DATA_built  = payments--1.0.sql
DATA        = $(wildcard sql/payments--*--*.sql)

PG_CPPFLAGS = -I$(srcdir)/src
# -Werror for our code; the -Wno-* silence what -Wextra finds in PG's headers.
PG_CFLAGS   = -Wextra -Werror -Wno-unused-parameter \
              -Wno-missing-field-initializers -Wno-sign-compare

# pg_regress: sql/*.sql -> expected/*.out, in a fresh contrib_regression
# database that already has the extension.
REGRESS      = $(patsubst sql/%.sql,%,$(sort $(filter-out sql/payments--%,$(wildcard sql/*.sql))))
REGRESS_OPTS = --load-extension=payments

# Isolation specs: test/isolation/specs/*.spec -> test/isolation/expected/*.out,
# results in output_iso/.
ISOLATION      = $(patsubst test/isolation/specs/%.spec,%,$(sort $(wildcard test/isolation/specs/*.spec)))
ISOLATION_OPTS = --inputdir=test/isolation --load-extension=payments

# TAP tests (PostgreSQL::Test::Cluster); initdb refuses root, see scripts/test.sh.
PROVE_TESTS = $(sort $(wildcard test/t/*.pl))
ifneq ($(PROVE_TESTS),)
TAP_TESTS   = 1
endif

# Pin PostgreSQL 15 even when other server versions are installed.
PG_CONFIG ?= $(firstword $(wildcard /usr/lib/postgresql/15/bin/pg_config) pg_config)
PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)
ifneq ($(PGXS),)
include $(PGXS)
else
all install installcheck:
	@echo "PostgreSQL 15 development files are missing: run 'make run' or 'make test', which install them." >&2
	@exit 1
endif

# PGXS tracks header dependencies only where PostgreSQL was built with
# --enable-depend (Debian's is not): rebuild every object when a header
# changes, or objects built against an old struct layout get linked.
$(OBJS): $(wildcard src/*.h)

# The directory is a prerequisite too, so that removing a piece rebuilds.
payments--1.0.sql: $(sort $(wildcard sql/install/*.sql)) sql/install
	cat $(filter %.sql,$^) > $@

# One suite at a time, so that scripts/test.sh can run them all and report each.
.PHONY: installcheck-regress installcheck-isolation prove_installcheck
installcheck-regress:
	$(pg_regress_installcheck) $(REGRESS_OPTS) $(REGRESS)
installcheck-isolation:
	$(pg_isolation_regress_installcheck) $(ISOLATION_OPTS) $(ISOLATION)
prove_installcheck:
	$(prove_installcheck)

.PHONY: run test bench stop clean-run
run:
	bash scripts/run.sh
test:
	bash scripts/test.sh
bench:
	bash scripts/bench.sh
stop:
	bash scripts/stop.sh
clean-run:
	bash scripts/stop.sh --remove
