#!/usr/bin/env bash
#
# bench/many_objects.sh: thousands of tables and chunks, on servers with
# PostgreSQL's default settings.
#
# As root on a machine where PostgreSQL 15 with TimescaleDB and tsmigrate are
# installed (`make install` beforehand; TSM_PG_BINDIR as for scripts/test).
# Starts a source and a target cluster as the unprivileged user tsmtest with
# nothing but shared_preload_libraries = 'timescaledb' set: the default
# max_locks_per_transaction (64) and max_connections (100), a lock table of
# some 8,000 locks.  On the source:
#
#   tables  TABLES tables (default 10000), each with a primary key, a CHECK,
#           an index, a foreign key, a comment and a row, made statement by
#           statement as an application makes them, twice: in database
#           "spread" each table references one of 100 parent tables (as in
#           a schema of many entities), in database "shared" every table
#           references the same one (the worst case: each foreign key adds
#           triggers to that table, whose relation cache entry PostgreSQL
#           rebuilds, with all of them, at each new key; and two keys on it
#           cannot be added at once)
#   chunks  a hypertable with 2 indexes and CHUNKS daily chunks (default
#           10000), 4 rows in each
#
# Then, one after the other, each into a fresh database of the target,
# timed end to end, the peak RssAnon of the target's processes sampled as in
# bench/compare.sh:
#
#   tables  for each of the two databases: pg_dump --schema-only | psql (the
#           documented procedure's schema); tsmigrate.pull_schema, pre-data
#           then post-data, each with jobs => JOBS, object by object (the same
#           schema-only work, the indexes built on empty tables); then CALL
#           tsmigrate.migrate(roles => false, jobs => JOBS): the whole call and
#           its pre-data + post-data steps (its indexes are built by the data
#           step, with the data)
#   chunks  the documented procedure (pg_dump | psql between
#           timescaledb_pre_restore() and timescaledb_post_restore()), then
#           CALL tsmigrate.migrate(roles => false, jobs => JOBS)
#
# and after each tsmigrate run, the run's state (every step done: verify
# included, so every table's and chunk's rows were counted on both sides).
#
#   TABLES=10000 CHUNKS=10000 bash bench/many_objects.sh
#
# Environment: TABLES, CHUNKS, JOBS (pull_schema's and migrate's, default
# 2), SETS (the table databases, default "spread
# shared"; CHUNKS=0 leaves the hypertable out), PORT (first port to try, default 56400),
# TSM_TEST_USER, TMPDIR (where the work directory, clusters included, is
# made), KEEP=1 to keep the work directory, LOAD=1 to print under each timed
# phase the load average at its start and end and where the machine's CPU
# time went during it (this benchmark's processes, the kernel's threads, any
# other process), for a machine that other work shares.

set -uo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

TABLES=${TABLES:-10000}
CHUNKS=${CHUNKS:-10000}
SETS=${SETS:-spread shared}
JOBS=${JOBS:-2}
PORT=${PORT:-56400}
LOAD=${LOAD:-0}

die() { echo "many_objects.sh: $*" >&2; exit 1; }

require_root
ensure_test_user
use_target "${majors[0]}"
sharedir=$($PG_CONFIG --sharedir)
[ -f "$sharedir/extension/tsmigrate.control" ] ||
	die "tsmigrate is not installed: run make install first"
[ -f "$sharedir/extension/timescaledb.control" ] ||
	die "TimescaleDB is not installed in $($PG_CONFIG --bindir)"

work=$(mktemp -d -t tsm_many.XXXXXX)
chmod 755 "$work"
mkdir "$work/source" "$work/target" "$work/results" "$work/logs"
chown -R "$TEST_USER" "$work"
trap cleanup EXIT
trap 'exit 130' INT TERM

conf=("shared_preload_libraries = 'timescaledb'" "timescaledb.telemetry_level = off")
src_port=$(free_port "$PORT")
start_cluster "$work/source" "$src_port" "${conf[@]}" || die "the source cluster did not start"
tgt_port=$(free_port $((src_port + 1)))
start_cluster "$work/target" "$tgt_port" "${conf[@]}" || die "the target cluster did not start"

# psql on database $1 of the source, reading stdin
src_sql() { as_test_user "psql -X -q -At -v ON_ERROR_STOP=1 -h '$work/source' -p $src_port -d $1"; }
tgt_sql() { as_test_user "psql -X -q -At -v ON_ERROR_STOP=1 -h '$work/target' -p $tgt_port -d $1"; }

echo "== machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo) RAM; $(postgres --version)"
echo "== both servers: max_locks_per_transaction = $(echo 'SHOW max_locks_per_transaction' | tgt_sql postgres), max_connections = $(echo 'SHOW max_connections' | tgt_sql postgres)"

t0=$(now)
src_sql postgres <<<"CREATE DATABASE spread; CREATE DATABASE shared; CREATE DATABASE chunks" ||
	die "CREATE DATABASE failed"
# make_tables DB PARENTS: TABLES tables in DB, referencing PARENTS parent tables
make_tables() {
	src_sql "$1" <<SQL >/dev/null || die "making the tables of $1 failed"
SELECT format('CREATE TABLE p%s (id int PRIMARY KEY)', g) FROM generate_series(0, $2 - 1) g \gexec
SELECT format('INSERT INTO p%s SELECT generate_series(1, 10)', g) FROM generate_series(0, $2 - 1) g \gexec
SELECT format('CREATE TABLE t%s (id int PRIMARY KEY, parent_id int REFERENCES p%s,'
              ' n int CHECK (n > 0), name text)', g, g % $2) FROM generate_series(1, $TABLES) g \gexec
SELECT format('CREATE INDEX ON t%s (name)', g) FROM generate_series(1, $TABLES) g \gexec
SELECT format('COMMENT ON TABLE t%s IS %L', g, 'table ' || g) FROM generate_series(1, $TABLES) g \gexec
SELECT format('INSERT INTO t%s VALUES (1, 1, %s, %L)', g, g, 'row ' || g) FROM generate_series(1, $TABLES) g \gexec
SQL
}
for db in $SETS; do
	case $db in
		spread) make_tables spread 100 ;;
		shared) make_tables shared 1 ;;
		*) die "unknown set of tables: $db" ;;
	esac
done
[ "$CHUNKS" -gt 0 ] && { src_sql chunks <<SQL >/dev/null || die "making the hypertable failed"; }
CREATE EXTENSION timescaledb;
CREATE TABLE readings (time timestamptz NOT NULL, device int NOT NULL, value float8);
SELECT create_hypertable('readings', 'time', chunk_time_interval => interval '1 day');
CREATE INDEX ON readings (device, time DESC);
SELECT format('INSERT INTO readings SELECT %L::timestamptz + g * interval ''6 hours'', g %% 3, g'
              ' FROM generate_series(0, 3) g', '2000-01-01'::date + d)
  FROM generate_series(0, $CHUNKS - 1) d \gexec
SQL
echo "== source: $TABLES tables, a hypertable of $CHUNKS chunks, made in $(elapsed "$t0" "$(now)") s"

# cpu_ticks: "machine ours kernel steal", clock ticks of CPU time so far:
# the machine's busy time (/proc/stat, steal aside); this benchmark's (both postmasters, their
# live children and those they reaped, and the children this shell reaped:
# the clients and the sampler); the kernel's threads' (children of kthreadd,
# the loop device's and the journal's among them); the time the hypervisor
# gave this machine's CPUs to others (steal)
cpu_ticks() {
	local pms
	pms="$(head -1 "$work/source/data/postmaster.pid") $(head -1 "$work/target/data/postmaster.pid")"
	awk -v pms="$pms" -v self=$$ 'BEGIN {
		n = split(pms, a, " "); for (i = 1; i <= n; i++) pm[a[i]] = 1
		getline line < "/proc/stat"; close("/proc/stat"); split(line, c, " ")
		machine = c[2] + c[3] + c[4] + c[7] + c[8]; steal = c[9]
		for (i = 1; i < ARGC; i++) {
			if ((getline line < ARGV[i]) <= 0) continue
			close(ARGV[i])
			pid = line; sub(/ .*/, "", pid); sub(/^.*\) /, "", line); split(line, f, " ")
			# f[2] ppid, f[12] utime, f[13] stime, f[14] cutime, f[15] cstime
			if (pid in pm) ours += f[12] + f[13] + f[14] + f[15]
			else if (f[2] in pm) ours += f[12] + f[13]
			else if (pid + 0 == self + 0) ours += f[14] + f[15]
			else if (f[2] == 2) kernel += f[12] + f[13]
		}
		print machine, ours + 0, kernel + 0, steal
	}' /proc/[0-9]*/stat
}
# load_line SECONDS LOAD0 TICKS0 LOAD1 TICKS1: the load average at the start
# and end of a phase and its CPU time as cores busy on average
load_line() {
	awk -v s="$1" -v l0="$2" -v t0="$3" -v l1="$4" -v t1="$5" -v hz="$(getconf CLK_TCK)" -v cores="$(nproc)" 'BEGIN {
		split(t0, a, " "); split(t1, b, " ")
		m = (b[1] - a[1]) / hz / s; o = (b[2] - a[2]) / hz / s; k = (b[3] - a[3]) / hz / s
		printf "      load average %s at the start, %s at the end; cores busy %.2f of %d: this benchmark %.2f, kernel threads %.2f, other processes %.2f; steal %.2f\n",
			l0, l1, m, cores, o, k, m - o - k, (b[4] - a[4]) / hz / s }'
}

# run LABEL DB COMMAND: COMMAND (a shell line, as tsmtest) timed, memory sampled
run() {
	local label=$1 db=$2 cmd=$3 res="$work/results/$1" t0 t1 rc mpid spid l0 l1 c0 c1
	mkdir -p "$res"
	tgt_sql postgres <<<"CREATE DATABASE $db" || die "CREATE DATABASE $db failed"
	tgt_sql postgres <<<"CHECKPOINT"
	if [ "$LOAD" = 1 ]; then
		l0=$(cut -d' ' -f1-3 /proc/loadavg)
		c0=$(cpu_ticks)
	fi
	t0=$(now)
	as_test_user "$cmd" >"$work/logs/$label.log" 2>&1 &
	mpid=$!
	sample "$mpid" >"$res/memory" &
	spid=$!
	wait "$mpid"
	rc=$?
	t1=$(now)
	kill "$spid" 2>/dev/null
	wait "$spid" 2>/dev/null
	if [ "$LOAD" = 1 ]; then
		l1=$(cut -d' ' -f1-3 /proc/loadavg)
		c1=$(cpu_ticks)
	fi
	awk '$1 > m { m = $1 } END { printf "%.0f\n", m / 1024 }' "$res/memory" >"$res/peak"
	if [ $rc = 0 ]; then
		elapsed "$t0" "$t1" >"$res/seconds"
	else
		echo "-" >"$res/seconds"
		echo "   $label FAILED (exit $rc); the end of its output:"
		tail -n 8 "$work/logs/$label.log" | sed 's/^/      /'
	fi
	printf '   %-22s %8s s   largest target process %5s MB\n' "$label" "$(cat "$res/seconds")" "$(cat "$res/peak")"
	[ "$LOAD" = 1 ] && load_line "$(elapsed "$t0" "$t1")" "$l0" "$c0" "$l1" "$c1" | tee "$res/load"
	return 0
}

srcdb() { echo "host=$work/source port=$src_port dbname=$1"; }
tgtpsql() { echo "psql -X -q -v ON_ERROR_STOP=1 -h '$work/target' -p $tgt_port -d $1"; }

# tsmigrate's step seconds, from the run state of database $1
steps() {
	tgt_sql "$1" <<<"SELECT step, round(extract(epoch FROM finished - started)::numeric, 2), state
	                    FROM tsmigrate.run_step ORDER BY ordinal"
}

# tables DB: the documented schema, then tsmigrate, into fresh databases
tables() {
	local db=$1 schema
	echo "== tables, $db"
	run "documented $db" "doc_$db" \
		"pg_dump --schema-only -h '$work/source' -p $src_port $db | $(tgtpsql "doc_$db") >/dev/null"
	run "pull_schema $db" "ps_$db" \
		"$(tgtpsql "ps_$db") -c 'CREATE EXTENSION tsmigrate' -c \"SELECT count(*) FROM tsmigrate.pull_schema('$(srcdb "$db")', 'pre-data', jobs => $JOBS)\" -c \"SELECT count(*) FROM tsmigrate.pull_schema('$(srcdb "$db")', 'post-data', jobs => $JOBS)\" >/dev/null"
	run "tsmigrate $db" "tsm_$db" \
		"$(tgtpsql "tsm_$db") -c 'CREATE EXTENSION tsmigrate' -c \"CALL tsmigrate.migrate('$(srcdb "$db")', jobs => $JOBS, roles => false)\""
	steps "tsm_$db" >"$work/results/tsmigrate $db/steps"
	schema=$(awk -F'|' '$1 == "pre-data" || $1 == "post-data" { s += $2 } END { printf "%.2f", s }' "$work/results/tsmigrate $db/steps")
	echo "$schema" >"$work/results/tsmigrate $db/schema"
	echo "   tsmigrate's pre-data + post-data steps: $schema s"
	echo "   steps: $(awk -F'|' '{ printf "%s %s s (%s); ", $1, $2, $3 }' "$work/results/tsmigrate $db/steps")"
}
for db in $SETS; do
	tables "$db"
done

if [ "$CHUNKS" -gt 0 ]; then
	echo "== chunks"
	run "documented" doc_chunks \
		"pg_dump -h '$work/source' -p $src_port chunks >'$work/chunks.sql' &&
		 $(tgtpsql doc_chunks) -c 'CREATE EXTENSION timescaledb' -c 'SELECT timescaledb_pre_restore()' -f '$work/chunks.sql' -c 'SELECT public.timescaledb_post_restore()' >/dev/null"
	run "tsmigrate chunks" tsm_chunks \
		"$(tgtpsql tsm_chunks) -c 'CREATE EXTENSION timescaledb' -c 'CREATE EXTENSION tsmigrate' -c \"CALL tsmigrate.migrate('$(srcdb chunks)', jobs => $JOBS, roles => false)\""
	steps tsm_chunks >"$work/results/tsmigrate chunks/steps"
	echo "   steps: $(awk -F'|' '{ printf "%s %s s (%s); ", $1, $2, $3 }' "$work/results/tsmigrate chunks/steps")"
fi

echo
echo "== reading"
for db in $SETS; do
	schema=$(cat "$work/results/tsmigrate $db/schema")
	doc=$(cat "$work/results/documented $db/seconds")
	ps=$(cat "$work/results/pull_schema $db/seconds")
	echo "   $TABLES tables, $db: pull_schema (pre-data, post-data) $ps s against pg_dump -s | psql $doc s: $(ratio "$ps" "$doc")x (goal: at most 0.5x)"
	echo "      migrate's pre-data + post-data steps $schema s: $(ratio "$schema" "$doc")x; whole migrate $(cat "$work/results/tsmigrate $db/seconds") s"
done
[ "$CHUNKS" -gt 0 ] && echo "   $CHUNKS chunks: tsmigrate's whole migrate $(cat "$work/results/tsmigrate chunks/seconds") s against the documented procedure's $(cat "$work/results/documented/seconds") s: $(ratio "$(cat "$work/results/tsmigrate chunks/seconds")" "$(cat "$work/results/documented/seconds")")x"
for db in $SETS; do
	echo "   largest target process, $db: pull_schema $(cat "$work/results/pull_schema $db/peak") MB, migrate $(cat "$work/results/tsmigrate $db/peak") MB; pg_dump -s | psql $(cat "$work/results/documented $db/peak") MB"
done
[ "$CHUNKS" -gt 0 ] && echo "   largest target process, chunks: migrate $(cat "$work/results/tsmigrate chunks/peak") MB; documented $(cat "$work/results/documented/peak") MB"
for db in $(printf 'tsm_%s ' $SETS) $([ "$CHUNKS" -gt 0 ] && echo tsm_chunks); do
	echo "   $db: run $(tgt_sql "$db" <<<'SELECT state FROM tsmigrate.run')"
done
