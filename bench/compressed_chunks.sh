#!/bin/sh
# bench/compressed_chunks.sh
#
# How to bring a TimescaleDB chunk that is compressed on the source: copy
# its compressed batches as they are (tsmigrate.copy_compressed = on, the
# default), or read it decompressed and compress it again here (off).
# Starts two throw-away clusters with TimescaleDB (which must be installed,
# with tsmigrate), fills a hypertable `m` of N rows (default 8,000,000;
# device_id, value, status; 1-day chunks of about 1M rows), compresses every
# chunk (segmentby device_id, orderby time DESC), and then, ROUNDS times
# (default 3), interleaved, into a fresh target database: pull_schema,
# pull_hypertables(with_data => false), then timed: pull_chunks(jobs => 2)
# and compress_chunks.  Each run is checked: same row count, every chunk
# compressed.  Run as a user that may run initdb.
#
#   sh bench/compressed_chunks.sh [rows] [base_port]

set -eu

N=${1:-8000000}
PORT=${2:-54760}
ROUNDS=${ROUNDS:-3}
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

OPTS="-c shared_preload_libraries=timescaledb -c max_worker_processes=16 -c timescaledb.telemetry_level=off"
for c in src tgt; do
	"$BIN/initdb" -D "$DIR/$c" -A trust >/dev/null
done
"$BIN/pg_ctl" -D "$DIR/src" -o "-p $SRC_PORT -k $DIR $OPTS" -l "$DIR/src.log" -w start >/dev/null
"$BIN/pg_ctl" -D "$DIR/tgt" -o "-p $TGT_PORT -k $DIR $OPTS" -l "$DIR/tgt.log" -w start >/dev/null

src() { "$BIN/psql" -X -q -At -h "$DIR" -p "$SRC_PORT" -d postgres -v ON_ERROR_STOP=1 "$@"; }
tgt() { "$BIN/psql" -X -q -At -h "$DIR" -p "$TGT_PORT" -v ON_ERROR_STOP=1 "$@"; }

src -c "CREATE EXTENSION timescaledb" 2>/dev/null
src -c "CREATE TABLE m (time timestamptz NOT NULL, device_id int NOT NULL, value float8, status int)" \
	-c "SELECT create_hypertable('m', 'time', chunk_time_interval => interval '1 day')" >/dev/null
src -c "INSERT INTO m SELECT '2026-01-01'::timestamptz + (g / 1000) * interval '90 seconds', g % 1000,
	             round((100 + 10 * sin(g / 5000.0))::numeric, 2), (g / 997) % 5
	          FROM generate_series(0, $N - 1) g"
src -c "ALTER TABLE m SET (timescaledb.compress, timescaledb.compress_segmentby = 'device_id',
	                       timescaledb.compress_orderby = 'time DESC')"
src -c "SELECT count(compress_chunk(c)) FROM show_chunks('m') c" >/dev/null
src -c "VACUUM ANALYZE" -c "CHECKPOINT"
echo "source: $N rows in $(src -c "SELECT count(*) FROM show_chunks('m')") chunks, all compressed:" \
	"$(src -c "SELECT pg_size_pretty(before_compression_total_bytes) || ' before, ' ||
	                  pg_size_pretty(after_compression_total_bytes) || ' after compression'
	             FROM hypertable_compression_stats('m')")"

SOURCE="host=$DIR port=$SRC_PORT dbname=postgres"
now() { date +%s.%N; }

# one run into a fresh database: label, copy_compressed
run() {
	tgt -d postgres -c "DROP DATABASE IF EXISTS t" -c "CREATE DATABASE t"
	tgt -d t -c "CREATE EXTENSION timescaledb" -c "CREATE EXTENSION tsmigrate" 2>/dev/null
	tgt -d t -c "SELECT count(*) FROM tsmigrate.pull_schema('$SOURCE')" \
		-c "SELECT count(*) FROM tsmigrate.pull_hypertables('$SOURCE', with_data => false)" >/dev/null
	tgt -d t -c "CHECKPOINT"
	t0=$(now)
	tgt -d t -c "SET tsmigrate.copy_compressed = $2" \
		-c "SELECT count(*) FROM tsmigrate.pull_chunks('$SOURCE', jobs => 2)" >/dev/null
	t1=$(now)
	tgt -d t -c "SELECT count(*) FROM tsmigrate.compress_chunks('$SOURCE')" >/dev/null 2>&1
	t2=$(now)
	got=$(tgt -d t -c "SELECT count(*) || ' rows, ' || (SELECT count(*) FILTER (WHERE is_compressed)
	                     FROM timescaledb_information.chunks) || ' compressed' FROM m")
	want="$N rows, $(src -c "SELECT count(*) FROM show_chunks('m')") compressed"
	[ "$got" = "$want" ] || { echo "$1: $got, expected $want" >&2; exit 1; }
	printf '%-34s copy %7.2f s   compress %7.2f s   total %7.2f s\n' "$1" \
		"$(echo "$t1 - $t0" | bc)" "$(echo "$t2 - $t1" | bc)" "$(echo "$t2 - $t0" | bc)"
	echo "$1 $(echo "$t2 - $t0" | bc)" >>"$DIR/times"
}

r=1
while [ "$r" -le "$ROUNDS" ]; do
	if [ $((r % 2)) -eq 1 ]; then
		run "copied compressed (on)" on
		run "decompressed, recompressed (off)" off
	else
		run "decompressed, recompressed (off)" off
		run "copied compressed (on)" on
	fi
	r=$((r + 1))
done

median() { grep "^$1" "$DIR/times" | awk '{print $NF}' | sort -n | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}'; }
on=$(median "copied")
off=$(median "decompressed")
printf 'median total: copied compressed %.2f s, decompressed + recompressed %.2f s: ratio %.2f\n' \
	"$on" "$off" "$(echo "$on / $off" | bc -l)"
