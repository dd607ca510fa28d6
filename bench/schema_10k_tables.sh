#!/bin/sh
# bench/schema_10k_tables.sh
#
# How long schema_sql and pull_schema take for a source with many tables.
# Starts two throw-away clusters (source and target) in a temporary
# directory, creates N tables on the source (default 10000), each with a
# serial primary key, a NOT NULL text column with a default, a CHECK
# constraint, a foreign key, an index and a comment,
# then times on the target:
#   - schema_sql pre-data and post-data (generation only),
#   - pull_schema pre-data and post-data (generation and replay),
# and checks that pg_dump --schema-only of both sides has the same number of
# lines.  Run as a user that may run initdb; tsmigrate must be installed.
#
#   sh bench/schema_10k_tables.sh [ntables] [base_port] [shared|previous]
#
# The foreign keys all point to one shared table (default), which makes
# PostgreSQL rebuild that table's trigger list with every one added, or each
# to the table created before it ("previous").

set -eu

N=${1:-10000}
PORT=${2:-54710}
FK=${3:-shared}
BIN=$(pg_config --bindir)
DIR=$(mktemp -d "${TMPDIR:-/tmp}/tsm_bench.XXXXXX")
SRC_PORT=$PORT
TGT_PORT=$((PORT + 1))

cleanup() {
	"$BIN/pg_ctl" -D "$DIR/src" -m immediate stop >/dev/null 2>&1 || true
	"$BIN/pg_ctl" -D "$DIR/tgt" -m immediate stop >/dev/null 2>&1 || true
	rm -rf "$DIR"
}
trap cleanup EXIT

for c in src tgt; do
	"$BIN/initdb" -D "$DIR/$c" -A trust >/dev/null
done
"$BIN/pg_ctl" -D "$DIR/src" -o "-p $SRC_PORT -k $DIR -c max_locks_per_transaction=1024" -l "$DIR/src.log" start >/dev/null
"$BIN/pg_ctl" -D "$DIR/tgt" -o "-p $TGT_PORT -k $DIR -c max_locks_per_transaction=1024" -l "$DIR/tgt.log" start >/dev/null

src() { "$BIN/psql" -X -q -h "$DIR" -p "$SRC_PORT" -d postgres -v ON_ERROR_STOP=1 "$@"; }
tgt() { "$BIN/psql" -X -q -h "$DIR" -p "$TGT_PORT" -d postgres -v ON_ERROR_STOP=1 "$@"; }

echo "creating $N tables on the source (foreign keys to: $FK)..."
src -c "CREATE TABLE public.shared (id int PRIMARY KEY)"
src -c "DO \$\$
BEGIN
  FOR i IN 1..$N LOOP
    EXECUTE format('CREATE TABLE public.t%s (id serial PRIMARY KEY, name text NOT NULL DEFAULT %L,
                      shared_id int REFERENCES public.%s, n int CHECK (n > 0))', i, 'row ' || i,
                   CASE WHEN '$FK' = 'previous' AND i > 1 THEN 't' || (i - 1) ELSE 'shared' END);
    EXECUTE format('CREATE INDEX ON public.t%s (name)', i);
    EXECUTE format('COMMENT ON TABLE public.t%s IS %L', i, 'table ' || i);
    IF i % 1000 = 0 THEN COMMIT; END IF;
  END LOOP;
END
\$\$"

tgt -c "CREATE EXTENSION tsmigrate"
SRC="host=$DIR port=$SRC_PORT dbname=postgres"

timed() {
	label=$1
	shift
	start=$(date +%s.%N)
	out=$(tgt -At -c "$*")
	end=$(date +%s.%N)
	printf '%-32s %8.2f s   %s\n' "$label" "$(echo "$end - $start" | bc)" "$out"
}

echo "timings for $N tables:"
timed "schema_sql pre-data" "SELECT count(*) || ' statements' FROM tsmigrate.schema_sql('$SRC', 'pre-data')"
timed "schema_sql post-data" "SELECT count(*) || ' statements' FROM tsmigrate.schema_sql('$SRC', 'post-data')"
timed "pull_schema pre-data" "SELECT count(*) || ' objects' FROM tsmigrate.pull_schema('$SRC', 'pre-data')"
timed "pull_schema post-data" "SELECT count(*) || ' objects' FROM tsmigrate.pull_schema('$SRC', 'post-data')"

dump() {
	"$BIN/pg_dump" -h "$DIR" -p "$1" --schema-only --no-owner --no-privileges \
		--no-tablespaces --quote-all-identifiers postgres |
		grep -v -e '^--' -e '^$' -e '^SET ' -e 'set_config' -e '^\\' -e 'tsmigrate' | sort
}
if [ "$(dump "$SRC_PORT" | md5sum)" = "$(dump "$TGT_PORT" | md5sum)" ]; then
	echo "pg_dump --schema-only: source and target are the same"
else
	echo "pg_dump --schema-only: source and target DIFFER"
	exit 1
fi
