# tsmigrate/Makefile

EXTENSION    = tsmigrate
EXTVERSION   = 1.0
MODULE_big   = tsmigrate
OBJS         = src/module.o src/tsmigrate.o \
               src/remote/conn.o src/remote/replication.o src/remote/fdw_validator.o src/remote/remote_rows.o src/remote/sessions.o src/remote/source.o \
               src/target/state.o src/target/target_query.o src/target/target_hypertables.o src/target/target_tables.o src/target/subtransaction.o src/target/consent.o src/target/target_rights.o \
               src/workers/workers.o \
               src/stream/apply.o src/stream/apply_notes.o src/stream/apply_relations.o src/stream/stream_worker.o \
               src/source_catalog/relations.o src/source_catalog/versions.o \
               src/schema/catalog_sql.o src/schema/schema.o src/schema/schema_objects.o src/schema/schema_owners.o src/schema/schema_postdata.o src/schema/schema_subscriptions.o src/schema/schema_tables.o \
               src/replay/executor.o src/replay/extensions.o src/replay/roles.o src/replay/replay.o src/replay/replay_object.o src/replay/replay_secrets.o src/replay/replay_check.o src/replay/replay_chunks.o src/replay/replay_early.o src/replay/replay_parallel.o \
               src/copy/copy.o src/copy/copy_command.o src/copy/copy_workers.o src/copy/pull_data.o \
               src/timescale/caggs.o src/timescale/compressed_copy.o src/timescale/jobs.o src/timescale/timescale.o \
               src/verify/verify_common.o src/verify/verify.o src/verify/verify_baseline.o src/verify/verify_timescale.o \
               src/migrate/preflight.o src/migrate/preflight_kinds.o src/migrate/online.o src/migrate/cutover.o src/migrate/migrate.o
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
