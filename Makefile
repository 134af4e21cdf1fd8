# Two extensions from one tree (DESIGN.md section 1):
#   monetary   the money types; library monetary.so; in the schema it is created in
#   payments   conversion and the ledger; library payments.so; schema payments;
#              requires monetary
#
#   make / make install     build and install both
#   make run                set up a throwaway cluster in .run/ and run the demo
#   make test               same set-up, then every test suite (see scripts/test.sh)
#   make bench              same set-up, then test/bench/*.sh
#   make report             the daily reconciliation report of the running cluster
#   make stop / clean-run   stop the cluster / also delete .run/

# The version in development.  Released install scripts are files in sql/
# (sql/<ext>--<version>.sql), frozen once committed; this version's install
# scripts are built from the pieces in sql/<ext>/, and sql/<ext>--A--B.sql
# upgrade every released version to it.  The control files' default_version
# must say the same (checked below).
EXTVERSION  = 1.1
# the TAP tests compare what they install with it
export EXTVERSION

EXTENSION   = monetary payments
PGFILEDESC  = "payments - double-entry payments ledger"

# The money code both libraries hold; each library also has its own files.
MONEY_OBJS  = src/amount.o src/bignat.o src/currency_code.o src/iso4217.o \
              src/currency.o src/monetary.o src/monetary_json.o
MONETARY_OBJS = src/monetary_module.o src/monetary_arith.o src/monetary_agg.o \
              src/allocation.o $(MONEY_OBJS)
MODULE_big  = payments
OBJS        = src/payments.o src/lifecycle.o src/hot_accounts.o src/payment_flows.o src/conversion.o src/ratio.o \
              src/ledger.o src/entries.o src/posting_engine.o src/table_writer.o src/ledger_triggers.o \
              src/transfer_api.o src/fx.o src/periods.o src/change_feed.o src/outcomes.o src/ledger_access.o $(MONEY_OBJS)

DATA_built  = monetary--$(EXTVERSION).sql payments--$(EXTVERSION).sql
DATA        = $(filter-out $(addprefix sql/,$(DATA_built)),$(wildcard sql/*--*.sql))

PG_CPPFLAGS = -I$(srcdir)/src -DPAYMENTS_VERSION='"$(EXTVERSION)"'
PG_CFLAGS   = -Wextra -Wno-unused-parameter -Wno-missing-field-initializers \
              -Wno-sign-compare
# Warnings are errors where we build to test (make test, CI: WERROR=1), not
# in a packager's build against a newer compiler.
ifdef WERROR
PG_CFLAGS  += -Werror
endif
# Both libraries contain the money code: each binds its calls to its own copy.
SHLIB_LINK  = -Wl,-Bsymbolic

# pg_regress: test/sql/*.sql -> test/expected/*.out.  The money tests run in a
# database with extension monetary alone; the others with payments too.
REGRESS_MONETARY = $(sort $(patsubst test/sql/%.sql,%,$(wildcard test/sql/money_*.sql)))
REGRESS_PAYMENTS = $(sort $(filter-out $(REGRESS_MONETARY) 000_setup,\
                   $(patsubst test/sql/%.sql,%,$(wildcard test/sql/*.sql))))
REGRESS_OPTS = --inputdir=$(CURDIR)/test

# Isolation specs: test/isolation/specs/*.spec -> test/isolation/expected/*.out.
ISOLATION      = $(patsubst test/isolation/specs/%.spec,%,$(sort $(wildcard test/isolation/specs/*.spec)))
ISOLATION_OPTS = --inputdir=test/isolation --outputdir=.run/isolation \
                 --load-extension=monetary --load-extension=payments

# TAP tests (PostgreSQL::Test::Cluster); initdb refuses root, see scripts/test.sh.
PROVE_TESTS = $(sort $(wildcard test/t/*.pl))
ifneq ($(PROVE_TESTS),)
TAP_TESTS   = 1
endif

PG_CONFIG ?= pg_config
# Where pg_config is not on the PATH, Debian's PostgreSQL 15.
ifeq ($(shell command -v $(PG_CONFIG) 2>/dev/null),)
PG_CONFIG := /usr/lib/postgresql/15/bin/pg_config
endif
PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)
ifneq ($(PGXS),)
include $(PGXS)
else
all install installcheck:
	@echo "PostgreSQL's development files are missing (pg_config --pgxs): run 'make run' or 'make test', which install them." >&2
	@exit 1
endif

# The control files and META.json must name the version the scripts are
# built for (META.json in PGXN's three-part form).
CONTROL_VERSIONS := $(shell sed -n "s/^default_version *= *'\(.*\)'/\1/p" monetary.control payments.control | sort -u)
ifneq ($(CONTROL_VERSIONS),$(EXTVERSION))
$(error default_version in monetary.control and payments.control ($(CONTROL_VERSIONS)) must be EXTVERSION ($(EXTVERSION)))
endif
META_VERSIONS := $(shell sed -n 's/^\(   \|         \)"version": "\([0-9.]*\)",*$$/\2/p' META.json | sort -u)
ifneq ($(META_VERSIONS),$(EXTVERSION).0)
$(error the versions in META.json ($(META_VERSIONS)) must be EXTVERSION.0 ($(EXTVERSION).0))
endif

# PGXS tracks header dependencies only where PostgreSQL was built with
# --enable-depend (Debian's is not): rebuild every object when a header
# changes, or objects built against an old struct layout get linked.
$(OBJS) $(MONETARY_OBJS): $(wildcard src/*.h) Makefile

# The monetary library, linked as PGXS links a MODULE_big.
all: monetary$(DLSUFFIX)
monetary$(DLSUFFIX): $(MONETARY_OBJS)
	$(CC) $(CFLAGS) $(MONETARY_OBJS) $(LDFLAGS) $(LDFLAGS_SL) \
		$(SHLIB_LINK) -shared -o $@
install: install-monetary-lib
.PHONY: install-monetary-lib
install-monetary-lib: monetary$(DLSUFFIX) installdirs
	$(INSTALL_SHLIB) monetary$(DLSUFFIX) '$(DESTDIR)$(pkglibdir)/monetary$(DLSUFFIX)'
uninstall: uninstall-monetary-lib
.PHONY: uninstall-monetary-lib
uninstall-monetary-lib:
	rm -f '$(DESTDIR)$(pkglibdir)/monetary$(DLSUFFIX)'
EXTRA_CLEAN = monetary$(DLSUFFIX) $(MONETARY_OBJS)

# This version's install scripts, joined from their pieces; the directory is a
# prerequisite too, so that removing a piece rebuilds.
monetary--$(EXTVERSION).sql: $(sort $(wildcard sql/monetary/*.sql)) sql/monetary
	cat $(filter %.sql,$^) > $@
payments--$(EXTVERSION).sql: $(sort $(wildcard sql/payments/*.sql)) sql/payments
	cat $(filter %.sql,$^) > $@

# One suite at a time, so that scripts/test.sh can run them all and report each.
.PHONY: installcheck-regress-monetary installcheck-regress-payments \
        installcheck-isolation prove_installcheck
# Each runs in its own output directory, which is also psql's working
# directory there (the tests \copy files to results/).
installcheck-regress-monetary:
	mkdir -p .run/regress/monetary
	cd .run/regress/monetary && $(pg_regress_installcheck) $(REGRESS_OPTS) \
		--dbname=monetary_regression \
		--load-extension=monetary 000_setup $(REGRESS_MONETARY)
installcheck-regress-payments:
	mkdir -p .run/regress/payments
	cd .run/regress/payments && $(pg_regress_installcheck) $(REGRESS_OPTS) \
		--dbname=payments_regression \
		--load-extension=monetary --load-extension=payments 000_setup $(REGRESS_PAYMENTS)
installcheck-isolation:
	mkdir -p .run/isolation
	$(pg_isolation_regress_installcheck) $(ISOLATION_OPTS) $(ISOLATION)
prove_installcheck:
	$(prove_installcheck)

.PHONY: run test bench report stop clean-run
run:
	bash scripts/run.sh
test:
	bash scripts/test.sh
bench:
	bash scripts/bench.sh
report:
	bash scripts/report.sh
stop:
	bash scripts/stop.sh
clean-run:
	bash scripts/stop.sh --remove
