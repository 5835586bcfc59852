# nfpg: nfdump and NfSen inside PostgreSQL.
#
# The extension is built with PGXS; the loader daemon (loader/) and the
# PostgreSQL-free unit tests (test/unit) have their own Makefiles and are
# reached through the targets at the bottom.

# EXTENSION is not set: pgxs would look for the control file at the top
# level.  DATA with MODULEDIR = extension installs it from extension/ instead.
EXT = nfpg
EXTVERSION = 0.1

MODULE_big = nfpg
OBJS = $(patsubst %.c,%.o,$(sort $(wildcard extension/*.c)))
PGFILEDESC = "nfpg - nfdump flows in PostgreSQL"

# One install script per release, assembled from one file per concern
# (extension/sql/NN_concern.sql) so each feature keeps its SQL next to its C.
DATA_built = extension/$(EXT)--$(EXTVERSION).sql
DATA = extension/$(EXT).control $(wildcard extension/$(EXT)--*--*.sql)
MODULEDIR = extension

REGRESS = $(patsubst sql/%.sql,%,$(sort $(wildcard sql/*.sql)))
REGRESS_OPTS = --load-extension=$(EXT) --temp-config=test/regress.conf

PG_CPPFLAGS = -Iextension -Iloader
PG_CFLAGS = -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers -Werror=implicit-function-declaration
SHLIB_LINK = -lcrypto -lzstd -lz

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

extension/$(EXT)--$(EXTVERSION).sql: $(sort $(wildcard extension/sql/*.sql))
	cat $^ > $@

.PHONY: loader unit install-loader clean-sub
loader:
	$(MAKE) -C loader

install-loader: loader
	$(MAKE) -C loader install

unit:
	$(MAKE) -C test/unit run

all: loader
clean: clean-sub
clean-sub:
	$(MAKE) -C loader clean
	$(MAKE) -C test/unit clean
