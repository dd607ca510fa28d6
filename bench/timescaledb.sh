#!/usr/bin/env bash
#
# bench/timescaledb.sh: tsmigrate against the pg_dump procedures on a
# TimescaleDB database.
#
# As root on a machine where PostgreSQL 15 with TimescaleDB and tsmigrate are
# installed (`make install` beforehand: this script builds nothing; point
# TSM_PG_BINDIR at another PostgreSQL 15 installation, as for scripts/test).
# Starts a source and a target cluster as the unprivileged user tsmtest
# (scripts/lib.sh) with shared_preload_libraries = 'timescaledb', and builds
# on the source: bench/dataset.sql at SCALE with -v hypertables=1 (metrics a
# hypertable with 1-day chunks: 30 at SCALE=1), the older half of metrics'
# chunks compressed (segmentby device_id, orderby time DESC), a continuous
# aggregate metrics_hourly (time_bucket CAGG_BUCKET, default '1 hour', per
# device) refreshed, a compression policy on metrics and a refresh policy on
# metrics_hourly whose next start is two days ahead (alter_job(...,
# next_start => now() + interval '2 days')).  Then, interleaved, for ROUNDS
# rounds, it copies the source into a fresh, empty database of the target
# with each method, timed end to end:
#
#   documented  Timescale's "migrate with downtime" procedure:
#               pg_dumpall --roles-only | sed (the superuser's lines and
#               attributes out), pg_dump --format=plain --quote-all-identifiers
#               --no-tablespaces --no-owner --no-privileges, CREATE EXTENSION
#               timescaledb on the target, then psql -f roles.sql
#               -c 'SELECT timescaledb_pre_restore()' -f dump.sql
#               -c 'SELECT timescaledb_post_restore()'
#   pgdump_dir  pg_dump -Fd -j2, CREATE EXTENSION timescaledb,
#               timescaledb_pre_restore(), pg_restore --section=pre-data,
#               --section=data -j2, --section=post-data -j2,
#               timescaledb_post_restore()
#   tsmigrate   CREATE EXTENSION tsmigrate; CALL tsmigrate.migrate(source,
#               jobs => 2, roles => false): the whole call; its steps
#               (tsmigrate.progress) are reported too
#
# After each method: row counts of metrics and metrics_hourly, the number of
# compressed chunks of metrics and every job of timescaledb_information.jobs
# (its next_start and its runs) against the source's; then, WAIT seconds
# later (default 15), the compressed chunks and the jobs again, to show a
# policy that fired early, and the lines of the target's log in that time
# that say a background job failed ("cannot drop portal ... while it is being
# set up" is a known PostgreSQL 15 / TimescaleDB problem of the server).
# While a method runs, the peak RssAnon of the target's processes is sampled
# as in bench/compare.sh.  Prints, per method, the median seconds, the rounds,
# tsmigrate's median over the method's and the checks.
#
# Environment: SCALE (default 1: 10M metrics rows in 30 chunks, 892 MB with
# half the chunks compressed; 30 * SCALE chunks), ROUNDS (default 3), PORT
# (first port to try, default 56300), WAIT (default 15), CAGG_BUCKET (default
# '1 hour': 720k rows at SCALE=1; '6 minutes': 7.2M), METHODS (default
# "documented pgdump_dir tsmigrate"), TSM_TEST_USER (default tsmtest),
# TMPDIR, KEEP=1 to keep the work directory and the clusters' logs.
#
#   SCALE=0.2 ROUNDS=1 bash bench/timescaledb.sh

set -uo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SCALE=${SCALE:-1}
ROUNDS=${ROUNDS:-3}
PORT=${PORT:-56300}
WAIT=${WAIT:-15}
CAGG_BUCKET=${CAGG_BUCKET:-1 hour}
read -r -a METHODS <<<"${METHODS:-documented pgdump_dir tsmigrate}"

die() { echo "timescaledb.sh: $*" >&2; exit 1; }

require_root
ensure_test_user
sharedir=$($PG_CONFIG --sharedir)
[ -f "$sharedir/extension/tsmigrate.control" ] ||
	die "tsmigrate is not installed: run make install first"
[ -f "$sharedir/extension/timescaledb.control" ] ||
	die "TimescaleDB is not installed in $($PG_CONFIG --bindir)"

work=$(mktemp -d -t tsm_tsbench.XXXXXX)
chmod 755 "$work"
mkdir "$work/source" "$work/target" "$work/results" "$work/logs"
cp "$repo/bench/dataset.sql" "$work/"
chown -R "$TEST_USER" "$work"

trap cleanup EXIT
trap 'exit 130' INT TERM


conf=("shared_preload_libraries = 'timescaledb'" "timescaledb.telemetry_level = off")
src_port=$(free_port "$PORT")
start_cluster "$work/source" "$src_port" "${conf[@]}" || die "the source cluster did not start"
tgt_port=$(free_port $((src_port + 1)))
start_cluster "$work/target" "$tgt_port" "${conf[@]}" || die "the target cluster did not start"

SRC_CONN="host=$work/source port=$src_port dbname=src"

tsversion=$(as_test_user "psql -X -At -h '$work/source' -p $src_port -d postgres -c \"SELECT default_version FROM pg_available_extensions WHERE name = 'timescaledb'\"")
echo "== machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo) RAM, $(uname -sr); $(postgres --version); TimescaleDB $tsversion; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== source: bench/dataset.sql at scale $SCALE with hypertables, compression, metrics_hourly ('$CAGG_BUCKET') and two policies"
t0=$(now)
as_test_user "psql -X -q -v ON_ERROR_STOP=1 -h '$work/source' -p $src_port -d postgres -c 'CREATE DATABASE src'" ||
	die "CREATE DATABASE src failed"
src_psql "-c 'CREATE EXTENSION timescaledb'" || die "CREATE EXTENSION timescaledb failed"
src_psql "-v scale=$SCALE -v hypertables=1 -f '$work/dataset.sql'" >/dev/null || die "bench/dataset.sql failed"
t1=$(now)
cat >"$work/timescaledb.sql" <<SQL
\set ON_ERROR_STOP on
ALTER TABLE metrics SET (timescaledb.compress,
    timescaledb.compress_segmentby = 'device_id',
    timescaledb.compress_orderby = 'time DESC');
CREATE MATERIALIZED VIEW metrics_hourly
    WITH (timescaledb.continuous, timescaledb.materialized_only = true) AS
SELECT time_bucket('$CAGG_BUCKET', time) AS bucket, device_id,
       avg(cpu) AS cpu_avg, max(cpu) AS cpu_max, avg(mem) AS mem_avg,
       min(temp) AS temp_min, max(temp) AS temp_max, count(*) AS samples
  FROM metrics
 GROUP BY 1, 2
  WITH NO DATA;
CALL refresh_continuous_aggregate('metrics_hourly', NULL, NULL);
-- the older half of the chunks
SELECT count(compress_chunk(format('%I.%I', chunk_schema, chunk_name)::regclass))
  FROM (SELECT chunk_schema, chunk_name
          FROM timescaledb_information.chunks
         WHERE hypertable_schema = 'public' AND hypertable_name = 'metrics'
         ORDER BY range_start
         LIMIT (SELECT count(*) / 2 FROM timescaledb_information.chunks
                 WHERE hypertable_schema = 'public' AND hypertable_name = 'metrics')) c;
-- the policies, first run two days ahead
SELECT alter_job(add_compression_policy('metrics', compress_after => interval '15 days'),
                 next_start => now() + interval '2 days');
SELECT alter_job(add_continuous_aggregate_policy('metrics_hourly',
                     start_offset => interval '3 days', end_offset => interval '1 hour',
                     schedule_interval => interval '1 hour'),
                 next_start => now() + interval '2 days');
SQL
chown "$TEST_USER" "$work/timescaledb.sql"
src_psql "-f '$work/timescaledb.sql'" >/dev/null || die "the TimescaleDB part of the source failed"
t2=$(now)
src_psql "-c 'VACUUM (FREEZE, ANALYZE)' -c CHECKPOINT" || die "VACUUM failed"
echo "   built in $(elapsed "$t0" "$(now)") s (dataset.sql $(elapsed "$t0" "$t1") s, aggregate + compression + policies $(elapsed "$t1" "$t2") s): $(src_psql "-c \"SELECT pg_size_pretty(pg_database_size('src'))\"")"

# the checks, run against either side: "key value" lines
cat >"$work/checks.sql" <<'SQL'
SELECT 'rows_metrics', count(*) FROM public.metrics;
SELECT 'rows_metrics_hourly', count(*) FROM public.metrics_hourly;
SELECT 'chunks', count(*) FROM timescaledb_information.chunks
 WHERE hypertable_schema = 'public' AND hypertable_name = 'metrics';
SELECT 'compressed', count(*) FILTER (WHERE is_compressed) FROM timescaledb_information.chunks
 WHERE hypertable_schema = 'public' AND hypertable_name = 'metrics';
-- a job by what it is, not by its id: the extension's own by name, the
-- policies by their procedure and the relation they act on
SELECT 'job ' || replace(CASE WHEN j.job_id < 1000 THEN 'extension:' || regexp_replace(j.application_name, ' \[\d+\]$', '')
                   ELSE j.proc_name || ':' || coalesce(ca.view_name, j.hypertable_name, '-') END, ' ', '_'),
       coalesce(to_char(j.next_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'), 'null')
       || ' ' || coalesce(s.total_runs, 0) || ' ' || j.scheduled
  FROM timescaledb_information.jobs j
  LEFT JOIN timescaledb_information.job_stats s ON s.job_id = j.job_id
  LEFT JOIN timescaledb_information.continuous_aggregates ca
         ON ca.materialization_hypertable_schema = j.hypertable_schema
        AND ca.materialization_hypertable_name = j.hypertable_name
 ORDER BY 1;
SQL
chown "$TEST_USER" "$work/checks.sql"
src_psql "-F ' ' -f '$work/checks.sql'" >"$work/source.checks" || die "the checks failed on the source"
src_val() { awk -v k="$1" '$1 == k { print $2 }' "$work/source.checks"; }
echo "   metrics: $(src_val rows_metrics) rows in $(src_val chunks) chunks, $(src_val compressed) compressed; metrics_hourly: $(src_val rows_metrics_hourly) rows"
echo "   jobs (next_start UTC, runs, scheduled):"
awk '$1 == "job" { printf "      %-58s %s %s %s\n", $2, $3, $4, $5 }' "$work/source.checks"


# the methods: each runs as the test user against database $db of the target,
# writes its steps' seconds to $res/steps and returns non-zero on failure
tgt_conn() { echo "-h '$work/target' -p $tgt_port -d $db"; }
step() { # name start: appends "name seconds since start" to $res/steps
	echo "$1 $(elapsed "$2" "$(now)")" >>"$res/steps"
}

# steps_line FILE: "name seconds, name seconds" from the lines of FILE
steps_line() { awk '{ printf "%s%s %s", (NR > 1 ? ", " : ""), $1, $2 }' "$1"; }

m_documented() {
	local t
	t=$(now)
	as_test_user "pg_dumpall -h '$work/source' -p $src_port -l src --quote-all-identifiers --roles-only --file='$work/roles.sql'" || return 1
	# the procedure's sed, with this cluster's bootstrap superuser as "postgres"
	sed -i -E \
		-e "/CREATE ROLE \"$TEST_USER\";/d" \
		-e "/ALTER ROLE \"$TEST_USER\"/d" \
		-e 's/(NO)*SUPERUSER//g' \
		-e 's/(NO)*REPLICATION//g' \
		-e 's/(NO)*BYPASSRLS//g' \
		-e 's/GRANTED BY "[^"]*"//g' \
		"$work/roles.sql" || return 1
	as_test_user "pg_dump -h '$work/source' -p $src_port --format=plain --quote-all-identifiers --no-tablespaces --no-owner --no-privileges --file='$work/dump.sql' src" || return 1
	step dump "$t"
	t=$(now)
	as_test_user "psql -X $(tgt_conn) -v ON_ERROR_STOP=1 --echo-errors -c 'CREATE EXTENSION timescaledb' -f '$work/roles.sql' -c 'SELECT timescaledb_pre_restore()' -f '$work/dump.sql' -c 'SELECT public.timescaledb_post_restore()'" >/dev/null || return 1
	step restore "$t"
}

m_pgdump_dir() {
	local t
	t=$(now)
	as_test_user "pg_dump -h '$work/source' -p $src_port -Fd -j2 -f '$work/dump.dir' src" || return 1
	step dump "$t"
	t=$(now)
	tgt_psql "$db" "-c 'CREATE EXTENSION timescaledb' -c 'SELECT timescaledb_pre_restore()'" >/dev/null || return 1
	step pre_restore "$t"
	t=$(now)
	as_test_user "pg_restore $(tgt_conn) --exit-on-error --section=pre-data '$work/dump.dir'" || return 1
	step pre-data "$t"
	# TimescaleDB's catalog alone and serially first, the rest with -j2:
	# Timescale's "restoring with concurrency" (in parallel the catalog's
	# tables break each other's foreign keys)
	t=$(now)
	as_test_user "pg_restore $(tgt_conn) --exit-on-error --section=data --schema=_timescaledb_catalog '$work/dump.dir'" || return 1
	step data-catalog "$t"
	t=$(now)
	as_test_user "pg_restore $(tgt_conn) --exit-on-error --section=data -j2 --exclude-schema=_timescaledb_catalog --disable-triggers '$work/dump.dir'" || return 1
	step data "$t"
	t=$(now)
	as_test_user "pg_restore $(tgt_conn) --exit-on-error --section=post-data -j2 '$work/dump.dir'" || return 1
	step post-data "$t"
	t=$(now)
	tgt_psql "$db" "-c 'SELECT timescaledb_post_restore()'" >/dev/null || return 1
	step post_restore "$t"
}

m_tsmigrate() {
	tgt_psql "$db" "-c 'CREATE EXTENSION timescaledb' -c 'CREATE EXTENSION tsmigrate' -c \"CALL tsmigrate.migrate('$SRC_CONN', jobs => 2, roles => false)\""
}

# after_tsmigrate: its steps that finished (also of a failed call), untimed
after_tsmigrate() {
	tgt_psql "$db" "-F ' ' -c \"SELECT replace(step, ' ', '_'), round(extract(epoch FROM elapsed)::numeric, 2) FROM tsmigrate.progress WHERE relation IS NULL AND elapsed IS NOT NULL\"" >>"$res/steps" 2>/dev/null
}

# check WHEN: the checks on the target, into $res/WHEN.checks, printed
# against the source's
check() {
	local when=$1 out="$res/$1.checks"
	tgt_psql "$db" "-F ' ' -v ON_ERROR_STOP=0 -f '$work/checks.sql'" >"$out" 2>"$res/$when.checks.err" ||
		echo "      (some checks failed: $(head -c 300 "$res/$when.checks.err" | tr '\n' ' '))"
	awk -v when="$when" -v sumfile="$res/$when.summary" '
		function add(k) { if (!(k in seen)) { seen[k] = 1; order[++n] = k } }
		FNR == NR { k = ($1 == "job") ? "job " $2 : $1; src[k] = ($1 == "job") ? $3 " " $4 " " $5 : $2; add(k); next }
		{ k = ($1 == "job") ? "job " $2 : $1; tgt[k] = ($1 == "job") ? $3 " " $4 " " $5 : $2; add(k) }
		END {
			line = ""
			for (i = 1; i <= n; i++) {
				k = order[i]
				if (k ~ /^job /) continue
				ok = (k in tgt) && tgt[k] == src[k]
				line = line sprintf(" %s %s%s", k, (k in tgt) ? tgt[k] : "missing", ok ? "" : " (source " src[k] ")")
			}
			printf "      %-9s%s\n", when ":", line
			jobs = 0; same = 0
			for (i = 1; i <= n; i++) {
				k = order[i]
				if (k !~ /^job /) continue
				if (k ~ /^job extension:/) {
					split((k in tgt) ? tgt[k] : "missing - -", t, " ")
					printf "         %-54s next_start %-26s runs %s  (made by CREATE EXTENSION on each side; not compared)\n", substr(k, 5), t[1], t[2]
					continue
				}
				jobs++
				split((k in src) ? src[k] : "missing - -", s, " ")
				split((k in tgt) ? tgt[k] : "missing - -", t, " ")
				if (s[1] == t[1]) { verdict = "next_start as on the source"; same++ }
				else if (!(k in tgt)) verdict = "MISSING on the target"
				else if (!(k in src)) verdict = "not on the source"
				else verdict = "next_start DIFFERS (source " s[1] ")"
				printf "         %-54s next_start %-26s runs %s  %s\n", substr(k, 5), t[1], t[2], verdict
			}
			fired = 0
			for (i = 1; i <= n; i++) {
				k = order[i]
				if (k !~ /^job / || k ~ /^job extension:/ || !(k in src) || !(k in tgt)) continue
				split(src[k], s, " "); split(tgt[k], t, " ")
				if (t[2] + 0 > s[2] + 0) fired++
			}
			rows = (tgt["rows_metrics"] == src["rows_metrics"] && tgt["rows_metrics_hourly"] == src["rows_metrics_hourly"]) ? "ok" : "WRONG"
			printf "rows %s, compressed %s, next_start as source %d/%d, fired %d\n", rows, (tgt["compressed"] == "") ? "-" : tgt["compressed"], same, jobs, fired > sumfile
		}' "$work/source.checks" "$out"
}

run() {
	local method=$1 round=$2 db="bench_${1}_$2" res="$work/results/$1.$2" rc spid mpid t1 logpos
	mkdir -p "$res"
	: >"$res/steps"
	rm -rf "$work/dump.sql" "$work/roles.sql" "$work/dump.dir"
	tgt_psql postgres "-c 'CREATE DATABASE $db'" || die "CREATE DATABASE $db failed"
	tgt_psql postgres "-c CHECKPOINT"
	src_psql "-c CHECKPOINT"
	sync
	logpos=$(stat -c %s "$work/target/server.log")

	t0=$(now)
	"m_$method" >"$work/logs/$method.$round.log" 2>&1 &
	mpid=$!
	sample "$mpid" >"$res/memory" &
	spid=$!
	wait "$mpid"
	rc=$?
	t1=$(now)
	kill "$spid" 2>/dev/null
	wait "$spid" 2>/dev/null
	[ "$(type -t "after_$method")" = function ] && "after_$method"

	if [ $rc = 0 ]; then
		echo "$(elapsed "$t0" "$t1")" >"$res/seconds"
		printf '   round %s  %-10s %8s s   (%s; load average %s)\n' "$round" "$method" "$(cat "$res/seconds")" "$(steps_line "$res/steps")" "$(cut -d' ' -f1 /proc/loadavg)"
	else
		# seconds and, for tsmigrate, the step that failed
		echo "$(elapsed "$t0" "$t1") $(sed -n 's/.*tsmigrate.migrate step "\([^"]*\)".*/\1/p' "$work/logs/$method.$round.log" | tail -1)" >"$res/failed"
		echo "   round $round  $method FAILED (exit $rc after $(cut -d' ' -f1 "$res/failed") s; $(steps_line "$res/steps")); the end of its output:"
		grep -v '^NOTICE' "$work/logs/$method.$round.log" | tail -n 8 | sed 's/^/      /'
	fi
	awk '{ if ($1 > m[1]) { who = $0; for (i = 1; i <= 4; i++) sub(/^[^ ]+ +/, "", who) }
	       for (i = 1; i <= 4; i++) if ($i > m[i]) m[i] = $i }
	     END { print m[1] + 0, m[2] + 0, m[3] + 0, m[4] + 0, who }' "$res/memory" >"$res/peak"

	check after
	sleep "$WAIT"
	check "${WAIT}s"
	# background jobs that failed in the target's log since the method started
	tail -c +$((logpos + 1)) "$work/target/server.log" |
		grep -E 'cannot drop portal|job [0-9]+|exited with exit code' | grep -v 'Background Worker Scheduler" (PID [0-9]*) exited with exit code 1' |
		sed -E 's/^[0-9-]+ [0-9:.]+ [A-Z]+ \[[0-9]+\] //' >"$res/log"
	sort "$res/log" | uniq -c | sed 's/^ */      target log: /'
	tgt_psql postgres "-c 'DROP DATABASE $db WITH (FORCE)'" || die "DROP DATABASE $db failed"
	rm -rf "$work/dump.sql" "$work/roles.sql" "$work/dump.dir"
}

echo "== $ROUNDS rounds, methods interleaved (the starting method rotates each round); after each method"
echo "   the checks against the source, then again ${WAIT} s later (jobs: next_start UTC, runs)"
n=${#METHODS[@]}
for ((r = 1; r <= ROUNDS; r++)); do
	for ((i = 0; i < n; i++)); do
		run "${METHODS[$(((i + r - 1) % n))]}" "$r"
	done
done

steps_of() { awk '!seen[$1]++ { print $1 }' "$work/results/$1".*/steps 2>/dev/null; }
# method when: the summaries of every round, "r1: ... ; r2: ..."
summary_of() {
	local d out=""
	for d in "$work/results/$1".*; do
		[ -f "$d/$2.summary" ] && out="$out${out:+; }${d##*.}: $(cat "$d/$2.summary")"
	done
	echo "$out"
}

declare -A med
for m in "${METHODS[@]}"; do
	med[$m]=$(seconds_of "$m" | median)
done
ts=${med[tsmigrate]:--}

label() {
	case $1 in
	documented) echo "documented: pg_dumpall + pg_dump plain + psql" ;;
	pgdump_dir) echo "pg_dump -Fd -j2 + pg_restore in steps, -j2" ;;
	tsmigrate) echo "tsmigrate.migrate, jobs 2 (whole CALL)" ;;
	esac
}

echo
echo "== results: scale $SCALE, $ROUNDS rounds, median seconds; ratio = tsmigrate / method;"
echo "   memory = peak RssAnon in MB: one target process (max) and all of them (sum), and the client processes'"
printf '| %-46s | %8s | %-26s | %9s | %8s | %8s | %8s |\n' method median rounds "ts/method" "tgt max" "tgt sum" "client"
printf '|%s|%s|%s|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..48})" ---------- ---------------------------- ----------- ---------- ---------- ----------
for m in "${METHODS[@]}"; do
	rounds=$(seconds_of "$m" | tr '\n' ' ')
	for f in "$work/results/$m".*/failed; do
		[ -f "$f" ] && rounds="$rounds$(awk '{ printf "FAILED%s after %s s ", $2 == "" ? "" : " at " $2, $1 }' "$f")"
	done
	printf '| %-46s | %8s | %-26s | %9s | %8s | %8s | %8s |\n' "$(label "$m")" "${med[$m]}" "$rounds" \
		"$(ratio "$ts" "${med[$m]}")" "$(peak_of "$m" 1)" "$(peak_of "$m" 2)" "$(peak_of "$m" 3)"
done

echo
echo "steps, median s:"
for m in "${METHODS[@]}"; do
	printf '   %-10s' "$m"
	for s in $(steps_of "$m"); do
		printf ' %s %s' "$s" "$(step_of "$m" "$s" | median)"
	done
	echo
done

echo
echo "checks against the source (source: $(src_val rows_metrics) + $(src_val rows_metrics_hourly) rows, $(src_val compressed) of $(src_val chunks) chunks compressed, $(grep '^job ' "$work/source.checks" | grep -vc '^job extension:') jobs of its own), per round:"
for m in "${METHODS[@]}"; do
	echo "   $m"
	echo "      right after:  $(summary_of "$m" after)"
	echo "      ${WAIT} s later:   $(summary_of "$m" "${WAIT}s")"
	for d in "$work/results/$m".*; do
		[ -s "$d/log" ] || continue
		echo "      target log, round ${d##*.}: $(grep -c 'cannot drop portal' "$d/log" | tr -d '\n') line(s) 'cannot drop portal', jobs that threw an error: $(sed -n 's/.*job \([0-9]*\) threw an error.*/\1/p' "$d/log" | sort -n | tr '\n' ' ')"
	done
done

echo
echo "the largest target process at its peak, per method (its process title):"
for m in "${METHODS[@]}"; do
	cat "$work/results/$m".*/peak 2>/dev/null | sort -k1,1gr | head -1 |
		awk -v m="$m" '{ kb = $1; for (i = 1; i <= 4; i++) sub(/^[^ ]+ +/, ""); printf "   %-10s %4.0f MB  %s\n", m, kb / 1024, $0 }'
done

echo
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (other sessions share this machine)"

echo
echo "goals (from the issue):"
awk -v v="$(ratio "$ts" "${med[documented]:--}")" 'BEGIN {
	if (v == "-") printf "   %-44s n/a\n", "tsmigrate / documented"
	else printf "   %-44s %5s  (goal <= 0.5): %s\n", "tsmigrate / documented", v, (v + 0 <= 0.5 ? "met" : "NOT met") }'
if [ -n "$(seconds_of tsmigrate)" ]; then
	jobs_ok=$(for d in "$work/results"/tsmigrate.*; do [ -f "$d/seconds" ] && cat "$d/after.summary" "$d/${WAIT}s.summary"; done |
		awk '{ split($3, j, "="); split(j[2], f, "/"); if (f[1] != f[2]) bad = 1 } END { print bad ? "NOT met" : "met" }')
	echo "   every job's next_start as on the source, right after and ${WAIT} s later: $jobs_ok"
else
	echo "   every job's next_start as on the source: n/a (tsmigrate did not complete a round)"
fi
