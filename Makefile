# nfpg: nfdump and NfSen inside PostgreSQL.
#
# The extension is built with PGXS; the loader daemon (loader/), the web
# console daemon (web/), the command-line programs (cli/) and the
# PostgreSQL-free unit tests (test/unit) have their own Makefiles and are
# reached through the targets at the bottom.

# EXTENSION is not set: pgxs would look for the control file at the top
# level.  DATA with MODULEDIR = extension installs it from extension/ instead.
EXT = nfpg
EXTVERSION = 0.13

MODULE_big = nfpg
OBJS = $(patsubst %.c,%.o,$(sort $(wildcard extension/*.c)))
PGFILEDESC = "nfpg - nfdump flows in PostgreSQL"

# The install script of the current release is assembled from one file per
# concern (extension/sql/NN_concern.sql) so each feature keeps its SQL next to
# its C.  The update script to it is assembled from the concern files that
# are new in it (verbatim), its hand-written part (extension/updates/
# FROM--TO.sql), and the grants and dump marks, which are idempotent.  Scripts of
# earlier releases are kept as they shipped (extension/nfpg--0.1.sql,
# nfpg--0.1--0.2.sql, ..., nfpg--0.11--0.12.sql), so a database
# can be made at an old version and updated, as the upgrade test does.
DATA_built = extension/$(EXT)--$(EXTVERSION).sql extension/$(EXT)--0.12--0.13.sql
DATA = extension/$(EXT).control extension/$(EXT)--0.1.sql extension/$(EXT)--0.1--0.2.sql \
	extension/$(EXT)--0.2--0.3.sql extension/$(EXT)--0.3--0.4.sql extension/$(EXT)--0.4--0.5.sql \
	extension/$(EXT)--0.5--0.6.sql extension/$(EXT)--0.6--0.7.sql extension/$(EXT)--0.7--0.8.sql \
	extension/$(EXT)--0.8--0.9.sql extension/$(EXT)--0.9--0.10.sql extension/$(EXT)--0.10--0.11.sql \
	extension/$(EXT)--0.11--0.12.sql
MODULEDIR = extension

# setup makes nfpg.flows in the regression database; every later test uses it.
REGRESS = setup $(filter-out setup,$(patsubst sql/%.sql,%,$(sort $(wildcard sql/*.sql))))
REGRESS_OPTS = --load-extension=$(EXT) --temp-config=test/regress.conf

PG_CPPFLAGS = -Iextension -Iloader
PG_CFLAGS = -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers -Werror=implicit-function-declaration
SHLIB_LINK = -lcrypto -lzstd -lz

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# PGXS tracks no header dependencies here (Debian's build has no
# --enable-depend): a changed header rebuilds every object of the library.
$(OBJS): $(wildcard extension/*.h loader/*.h)

extension/$(EXT)--$(EXTVERSION).sql: $(sort $(wildcard extension/sql/*.sql))
	cat $^ > $@

extension/$(EXT)--0.12--0.13.sql: extension/sql/37_dump_records.sql extension/updates/0.12--0.13.sql extension/sql/90_grants.sql extension/sql/92_profiles_grants.sql extension/sql/93_config_dump.sql
	{ printf '%s\n' '\echo Use "ALTER EXTENSION nfpg UPDATE" to load this file. \quit'; cat $^; } > $@

.PHONY: loader web cli unit install-loader install-web install-cli clean-sub
loader:
	$(MAKE) -C loader

web:
	$(MAKE) -C web

install-web: web
	$(MAKE) -C web install

cli:
	$(MAKE) -C cli

install-cli: cli
	$(MAKE) -C cli install

install-loader: loader
	$(MAKE) -C loader install

unit:
	$(MAKE) -C test/unit run

all: loader web cli
install: install-cli
clean: clean-sub
clean-sub:
	$(MAKE) -C loader clean
	$(MAKE) -C web clean
	$(MAKE) -C cli clean
	$(MAKE) -C test/unit clean
