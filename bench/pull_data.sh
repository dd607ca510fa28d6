#!/bin/sh
# bench/pull_data.sh
#
# How fast pull_data copies, against the client tools it replaces.
# Starts two throw-away clusters (source and target) in a temporary
# directory, fills one table of N rows on the source (default 3,000,000;
# bigint, timestamptz, numeric, float8, text, int, boolean: about 110 bytes
# a row) plus, for the many-tables case, 8 tables of N/8 rows, then times on
# the target, each on empty tables after a CHECKPOINT:
#   - pull_data, one job, binary and text COPY;
#   - pull_data, 2 and 4 jobs, the big table whole and split in 64MB ranges;
#   - pull_data, 4 jobs over the 8 tables;
#   - psql -c 'COPY ... TO STDOUT' | psql -c 'COPY ... FROM STDIN';
#   - pg_dump --data-only | psql.
# Every run is checked for the right row count.  Run as a user that may run
# initdb; tsmigrate must be installed.
#
#   sh bench/pull_data.sh [rows] [base_port]

set -eu

N=${1:-3000000}
PORT=${2:-54730}
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
"$BIN/pg_ctl" -D "$DIR/src" -o "-p $SRC_PORT -k $DIR" -l "$DIR/src.log" start >/dev/null
"$BIN/pg_ctl" -D "$DIR/tgt" -o "-p $TGT_PORT -k $DIR -c max_worker_processes=16" -l "$DIR/tgt.log" start >/dev/null

src() { "$BIN/psql" -X -q -At -h "$DIR" -p "$SRC_PORT" -d postgres -v ON_ERROR_STOP=1 "$@"; }
tgt() { "$BIN/psql" -X -q -At -h "$DIR" -p "$TGT_PORT" -d postgres -v ON_ERROR_STOP=1 "$@"; }

SCHEMA="CREATE TABLE m (id bigint, ts timestamptz, n numeric, f float8, t text, i int, b boolean);"
i=1
while [ $i -le 8 ]; do
	SCHEMA="$SCHEMA CREATE TABLE m$i (LIKE m);"
	i=$((i + 1))
done
src -c "$SCHEMA"
tgt -c "$SCHEMA" -c "CREATE EXTENSION tsmigrate"

FILL="SELECT g, '2020-01-01'::timestamptz + g * interval '1 second', g / 7.0, g * 1.1, md5(g::text), g % 1000, g % 2 = 0"
src -c "INSERT INTO m $FILL FROM generate_series(1, $N) g"
i=1
while [ $i -le 8 ]; do
	src -c "INSERT INTO m$i $FILL FROM generate_series(1, $N / 8) g"
	i=$((i + 1))
done
src -c "VACUUM ANALYZE"
echo "source: $N rows in m ($(src -c "SELECT pg_size_pretty(pg_relation_size('m'))")), 8 tables of $((N / 8)) rows"

SOURCE="host=$DIR port=$SRC_PORT dbname=postgres"
now() { date +%s.%N; }
empty() { tgt -c "TRUNCATE m, m1, m2, m3, m4, m5, m6, m7, m8" -c "CHECKPOINT"; }
check() {
	got=$(tgt -c "SELECT count(*) FROM $1")
	[ "$got" = "$2" ] || { echo "wrong row count in $1: $got, expected $2" >&2; exit 1; }
}

# label, settings, jobs, tables
pull() {
	empty
	t0=$(now)
	tgt -c "$2" -c "SELECT count(*) FROM tsmigrate.pull_data('$SOURCE', $3, '$4')" >/dev/null
	t1=$(now)
	printf '%-40s %8.2f s\n' "$1" "$(echo "$t1 - $t0" | bc)"
}

pull "pull_data 1 job, binary" "SET tsmigrate.copy_binary = on" 1 "{m}"
check m "$N"
pull "pull_data 1 job, text" "SET tsmigrate.copy_binary = off" 1 "{m}"
check m "$N"
for j in 2 4; do
	pull "pull_data $j jobs, one table whole" "SET tsmigrate.copy_split_size = '100GB'" $j "{m}"
	check m "$N"
	pull "pull_data $j jobs, split in 64MB ranges" "SET tsmigrate.copy_split_size = '64MB'" $j "{m}"
	check m "$N"
done
pull "pull_data 1 job, 8 tables" "SET tsmigrate.copy_binary = on" 1 "{m1,m2,m3,m4,m5,m6,m7,m8}"
check m8 "$((N / 8))"
pull "pull_data 4 jobs, 8 tables" "SET tsmigrate.copy_binary = on" 4 "{m1,m2,m3,m4,m5,m6,m7,m8}"
check m8 "$((N / 8))"

empty
t0=$(now)
"$BIN/psql" -X -q -h "$DIR" -p "$SRC_PORT" -d postgres -c "COPY m TO STDOUT" |
	"$BIN/psql" -X -q -h "$DIR" -p "$TGT_PORT" -d postgres -c "COPY m FROM STDIN"
t1=$(now)
printf '%-40s %8.2f s\n' "psql COPY | psql COPY (text)" "$(echo "$t1 - $t0" | bc)"
check m "$N"

empty
t0=$(now)
"$BIN/pg_dump" -h "$DIR" -p "$SRC_PORT" --data-only -t m postgres |
	"$BIN/psql" -X -q -h "$DIR" -p "$TGT_PORT" -d postgres >/dev/null
t1=$(now)
printf '%-40s %8.2f s\n' "pg_dump --data-only | psql" "$(echo "$t1 - $t0" | bc)"
check m "$N"
