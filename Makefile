# tsmigrate/Makefile

EXTENSION    = tsmigrate
EXTVERSION   = 1.0
MODULE_big   = tsmigrate
OBJS         = src/tsmigrate.o src/consent.o src/source.o src/fdw_validator.o src/conn.o \
               src/remote_rows.o src/sessions.o src/versions.o src/verify.o src/target_query.o src/state.o src/migrate.o \
               src/copy.o src/parallel.o src/pull_data.o \
               src/extensions.o src/roles.o src/role_replay.o \
               src/schema.o src/schema_objects.o src/schema_tables.o src/schema_postdata.o src/schema_owners.o src/replay.o src/replay_check.o src/replay_parallel.o src/replay_early.o src/replay_chunks.o \
               src/timescale.o src/caggs.o src/jobs.o src/verify_timescale.o \
               src/compressed_copy.o
DATA         = $(wildcard sql/$(EXTENSION)--*.sql)
PGFILEDESC   = "tsmigrate - migrate a PostgreSQL or TimescaleDB database from inside the target"

PG_CPPFLAGS  = -I$(libpq_srcdir) -I$(shell $(PG_CONFIG) --includedir) -I$(srcdir)/src
SHLIB_LINK_INTERNAL = $(libpq)

# explicit order: later tests use objects created by earlier ones
REGRESS      = 00_setup 10_source 20_sessions 30_versions 40_extensions 50_schema 60_data 70_verify
REGRESS_OPTS = --inputdir=sql_tests
TAP_TESTS    = 1

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)
