#!/usr/bin/env bash
#
# bench/online.sh: the downtime of an online migration under a steady write
# load, against the offline migrate's and the documented procedure's.
#
# As root on a machine where PostgreSQL 15 with TimescaleDB, its pgbench and
# tsmigrate are installed (`make install` beforehand: this script builds
# nothing; TSM_PG_BINDIR as for scripts/test).  Starts a source and a target
# cluster as the unprivileged user tsmtest (scripts/lib.sh) with
# shared_preload_libraries = 'timescaledb', the source with wal_level =
# logical (max_replication_slots and max_wal_senders at their default, 10),
# and loads bench/dataset.sql at SCALE with -v hypertables=1 into the source
# (metrics a hypertable of 1-day chunks; then VACUUM (FREEZE, ANALYZE) and a
# checkpoint).  The write load is pgbench, from the same installation, with
# the script below at RATE transactions a second (pgbench -R) in CLIENTS
# sessions; each transaction inserts a row into metrics (half at now(), half
# at a future time that moves one day ahead every CHUNK_EVERY seconds, so
# that the source makes a new chunk that often), updates a device's attrs by
# its key and deletes an event by its key (EVENT_INSERTS=1 adds an insert
# into events, whose id is GENERATED ALWAYS AS IDENTITY).  Then, one
# after the other, each into a fresh database of the target after a
# checkpoint on both sides:
#
#   documented  the load stopped, as the procedure requires: Timescale's
#               "migrate with downtime" procedure as bench/timescaledb.sh
#               runs it (pg_dumpall --roles-only | sed, pg_dump
#               --format=plain --quote-all-identifiers --no-tablespaces
#               --no-owner --no-privileges, then one psql between
#               timescaledb_pre_restore() and timescaledb_post_restore()),
#               timed end to end; its row counts checked against the source
#   offline     under the load (started WARMUP seconds before): CALL
#               tsmigrate.migrate(source, jobs => JOBS, roles => false),
#               the whole call timed; its result differs from the source
#               (the load goes on), so only its time counts: verify's
#               failure is printed, not held against it
#   online      under the same load: CALL tsmigrate.migrate(source, jobs =>
#               JOBS, roles => false, online => true), the whole call timed
#               (the copy phase); STREAM seconds of streaming; the load
#               stopped (its sessions gone from the source); CALL
#               tsmigrate.cutover(source) timed (the downtime), with the
#               downtime its last NOTICE gives.  tsmigrate.stream_status is
#               sampled every EVERY seconds from the migrate call to the
#               load's stop, with the stream worker's RssAnon.  After
#               cutover: tsmigrate.verify(source, checksums => false) must
#               have no row that is not ok, and the tables (row counts, a
#               digest of devices, events' ids, metrics' last time and
#               chunks, the identity sequence) must be the source's
#
# The source is a foreign server with a user mapping in each target
# database (an online run needs one; the offline run uses it too).  Prints
# each phase's seconds, the load pgbench kept up (mean tps from its
# progress lines, its schedule lag), the stream's lag, the checks, then the
# ratios (cutover over the offline migrate's and over the documented
# procedure's time, the copy phase over the offline migrate's) against the
# issue's goals.  Nothing is asserted on times.
#
# Environment: SCALE (default 1: 10M metrics rows in 30 chunks, 1.2 GB; the
# same data as compare.sh's 1.7 GB of plain tables), RATE (default 200),
# CLIENTS (default 2), STREAM (default 30), EVERY (default 3), CHUNK_EVERY
# (default 10), WARMUP (default 5), JOBS (default 2), EVENT_INSERTS (default
# 0), PORT (first port to try, default 56500), TSM_TEST_USER (default
# tsmtest), TMPDIR, KEEP=1 to keep the work directory and the clusters' logs.
#
#   SCALE=0.05 STREAM=10 bash bench/online.sh     # as root: a run of a minute

set -uo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SCALE=${SCALE:-1}
RATE=${RATE:-200}
CLIENTS=${CLIENTS:-2}
STREAM=${STREAM:-30}
EVERY=${EVERY:-3}
CHUNK_EVERY=${CHUNK_EVERY:-10}
WARMUP=${WARMUP:-5}
EVENT_INSERTS=${EVENT_INSERTS:-0}
JOBS=${JOBS:-2}
PORT=${PORT:-56500}
SERVER=bench_source
TABLES=(sites devices metrics events)

die() { echo "online.sh: $*" >&2; exit 1; }

require_root
ensure_test_user
use_target "${majors[0]}"
sharedir=$($PG_CONFIG --sharedir)
[ -f "$sharedir/extension/tsmigrate.control" ] ||
	die "tsmigrate is not installed: run make install first"
[ -f "$sharedir/extension/timescaledb.control" ] ||
	die "TimescaleDB is not installed in $($PG_CONFIG --bindir)"
[ -x "$($PG_CONFIG --bindir)/pgbench" ] || die "pgbench is not in $($PG_CONFIG --bindir)"

# start_load NAME: pgbench in the background, its progress in logs/load.NAME
start_load() {
	rm -f "$work/load.pid"
	as_test_user "pgbench -n -h '$work/source' -p $src_port -f '$work/load.sql' \
		-D t0=$load_t0 -D chunk_every=$CHUNK_EVERY -D events=$events_max \
		-R $RATE -c $CLIENTS -T 86400 -P 5 src >'$work/logs/load.$1' 2>&1 &
		echo \$! >'$work/load.pid'; wait" &
	load_su=$!
	until [ -s "$work/load.pid" ]; do sleep 0.05; done
	load_name=$1
	load_start=$(now)
}

# stop_load: pgbench terminated, then waited for until none of its sessions
# is left on the source
stop_load() {
	[ -s "$work/load.pid" ] || return 0
	kill "$(cat "$work/load.pid")" 2>/dev/null
	rm -f "$work/load.pid"
	wait "$load_su" 2>/dev/null
	elapsed "$load_start" "$(now)" >"$work/results/load.$load_name.seconds"
	local i
	for ((i = 0; i < 300; i++)); do
		[ "$(src_psql "-c \"SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgbench'\"" 2>/dev/null)" = 0 ] && return 0
		sleep 0.1
	done
	echo "   (pgbench's sessions still on the source after 30 s)"
}

# load_of NAME: "mean tps, max schedule lag ms, aborted clients" of
# pgbench's progress lines ("progress: 5.0 s, 199.8 tps, lat 2.1 ms stddev
# 0.9, ... lag 0.1 ms ...")
load_of() {
	awk '/^progress:/ {
			for (i = 1; i <= NF; i++) {
				if ($(i + 1) ~ /^tps/) { tps += $i; n++ }
				if ($i == "lag") { l = $(i + 1) + 0; if (l > lag) lag = l }
			}
		}
		/aborted/ { ab++ }
		END { printf "%.1f tps, schedule lag up to %.1f ms%s", n ? tps / n : 0, lag, ab ? ", " ab " line(s) saying a client aborted" : "" }' \
		"$work/logs/load.$1"
}

work=$(mktemp -d -t tsm_online.XXXXXX)
chmod 755 "$work"
mkdir "$work/source" "$work/target" "$work/results" "$work/logs"
cp "$repo/bench/dataset.sql" "$work/"
chown -R "$TEST_USER" "$work"

# the load first (its sessions would keep the source busy), then the clusters
trap 'stop_load; cleanup' EXIT
trap 'exit 130' INT TERM


conf=("shared_preload_libraries = 'timescaledb'" "timescaledb.telemetry_level = off")
src_port=$(free_port "$PORT")
start_cluster "$work/source" "$src_port" "${conf[@]}" "wal_level = logical" ||
	die "the source cluster did not start"
tgt_port=$(free_port $((src_port + 1)))
start_cluster "$work/target" "$tgt_port" "${conf[@]}" || die "the target cluster did not start"

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
tsversion=$(as_test_user "psql -X -At -h '$work/source' -p $src_port -d postgres -c \"SELECT default_version FROM pg_available_extensions WHERE name = 'timescaledb'\"")
tsmversion=$(as_test_user "psql -X -At -h '$work/target' -p $tgt_port -d postgres -c \"SELECT default_version FROM pg_available_extensions WHERE name = 'tsmigrate'\"")
echo "== machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo) RAM, $(uname -sr); $(postgres --version); TimescaleDB $tsversion; tsmigrate $tsmversion; load average $(loadavg)"
echo "== source: bench/dataset.sql at scale $SCALE with hypertables (wal_level = $(as_test_user "psql -X -At -h '$work/source' -p $src_port -d postgres -c 'SHOW wal_level'"))"
t0=$(now)
as_test_user "psql -X -q -v ON_ERROR_STOP=1 -h '$work/source' -p $src_port -d postgres -c 'CREATE DATABASE src'" ||
	die "CREATE DATABASE src failed"
src_psql "-c 'CREATE EXTENSION timescaledb'" || die "CREATE EXTENSION timescaledb failed"
src_psql "-v scale=$SCALE -v hypertables=1 -f '$work/dataset.sql'" >/dev/null || die "bench/dataset.sql failed"
src_psql "-c 'VACUUM (FREEZE, ANALYZE)' -c CHECKPOINT" || die "VACUUM failed"
echo "   built in $(elapsed "$t0" "$(now)") s: $(src_psql "-c \"SELECT pg_size_pretty(pg_database_size('src'))\"")"

# source_chunks: the number of metrics' chunks on the source
source_chunks() {
	src_psql "-c \"SELECT count(*) FROM timescaledb_information.chunks WHERE hypertable_schema = 'public' AND hypertable_name = 'metrics'\""
}
declare -A expected
for t in "${TABLES[@]}"; do
	expected[$t]=$(src_psql "-c 'SELECT count(*) FROM public.$t'")
done
events_max=$(src_psql "-c 'SELECT max(id) FROM public.events'")
echo "   ${expected[metrics]} metrics rows in $(source_chunks) chunks, ${expected[events]} events, ${expected[devices]} devices, ${expected[sites]} sites"


# The write load.  t0 is the epoch second the load's clock starts from: the
# future rows move one day ahead every CHUNK_EVERY seconds from then on,
# through every phase, so each phase makes chunks no earlier one made.
{
	cat <<'SQL'
\set dev random(1, 1000)
\set d random(1, 10000)
\set e random(1, :events)
\set future random(0, 1)
BEGIN;
INSERT INTO public.metrics (device_id, time, cpu, mem, temp)
VALUES (:dev,
        CASE WHEN :future = 1
             THEN now() + (extract(epoch FROM now()) - :t0) * interval '1 day' / :chunk_every
                  + random() * interval '1 hour'
             ELSE now() END,
        random() * 100, random() * 64, 20 + random() * 40)
ON CONFLICT DO NOTHING;
SQL
	[ "$EVENT_INSERTS" = 1 ] && cat <<'SQL'
INSERT INTO public.events (device_id, time, kind, payload)
VALUES (:d, now(), 'alert', jsonb_build_object('level', :e % 7, 'msg', 'load'));
SQL
	cat <<'SQL'
UPDATE public.devices SET attrs = jsonb_set(attrs, '{rack}', to_jsonb(:e % 40)) WHERE id = :d;
DELETE FROM public.events WHERE id = :e;
END;
SQL
} >"$work/load.sql"
chown "$TEST_USER" "$work/load.sql"
load_t0=$(date +%s)
echo "== write load: pgbench -R $RATE -c $CLIENTS, per transaction: an insert into metrics (now(), or a"
echo "   future time one day further every $CHUNK_EVERY s: a new chunk),$([ "$EVENT_INSERTS" = 1 ] && echo " an insert into events,") an update of"
echo "   devices by key, a delete of events by key"

# prepare DB: a fresh database of the target with tsmigrate and the foreign
# server of the source, after a checkpoint on both sides
prepare() {
	tgt_psql postgres "-c 'CREATE DATABASE $1'" || die "CREATE DATABASE $1 failed"
	[ "$1" = documented ] || tgt_psql "$1" "-c 'CREATE EXTENSION tsmigrate'" \
		"-c \"CREATE SERVER $SERVER FOREIGN DATA WRAPPER tsmigrate OPTIONS (host '127.0.0.1', port '$src_port', dbname 'src')\"" \
		"-c \"CREATE USER MAPPING FOR CURRENT_USER SERVER $SERVER OPTIONS (user '$TEST_USER')\"" ||
		die "tsmigrate's foreign server in $1 failed"
	tgt_psql postgres "-c CHECKPOINT"
	src_psql "-c CHECKPOINT"
	sync
}

# steps DB: "step seconds" of the last run's steps that finished
steps() {
	tgt_psql "$1" "-F ' ' -c \"SELECT replace(step, ' ', '_'), round(extract(epoch FROM elapsed)::numeric, 2) FROM tsmigrate.progress WHERE relation IS NULL AND elapsed IS NOT NULL\"" 2>/dev/null
}
steps_line() { awk '{ printf "%s%s %s", (NR > 1 ? ", " : ""), $1, $2 }' "$1"; }

# the tables' checks, run against either side: "key value..." lines
cat >"$work/checks.sql" <<'SQL'
SELECT 'sites', count(*) FROM public.sites;
SELECT 'devices', count(*), md5(string_agg(id || ' ' || site_id || ' ' || model || ' ' || attrs::text, ',' ORDER BY id)) FROM public.devices;
SELECT 'events', count(*), sum(id), max(id) FROM public.events;
SELECT 'events_id_seq', last_value FROM public.events_id_seq;
SELECT 'metrics', count(*), max(time) AT TIME ZONE 'UTC' FROM public.metrics;
SELECT 'metrics_chunks', count(*), string_agg(chunk_name, ',' ORDER BY chunk_name) IS NOT NULL
  FROM timescaledb_information.chunks WHERE hypertable_schema = 'public' AND hypertable_name = 'metrics';
SELECT 'metrics_chunk_names', md5(string_agg(chunk_schema || '.' || chunk_name || ' ' || range_start || ' ' || range_end, ',' ORDER BY chunk_name))
  FROM timescaledb_information.chunks WHERE hypertable_schema = 'public' AND hypertable_name = 'metrics';
SQL
chown "$TEST_USER" "$work/checks.sql"

# compare DB: the checks on the target's DB against the source's, printed;
# non-zero when one differs
compare() {
	src_psql "-F ' ' -f '$work/checks.sql'" >"$work/results/$1.source.checks" 2>&1
	tgt_psql "$1" "-F ' ' -v ON_ERROR_STOP=0 -f '$work/checks.sql'" >"$work/results/$1.checks" 2>&1
	awk 'FNR == NR { k = $1; $1 = ""; src[k] = $0; order[++n] = k; next }
		{ k = $1; $1 = ""; tgt[k] = $0 }
		END {
			bad = 0
			for (i = 1; i <= n; i++) {
				k = order[i]
				if (tgt[k] == src[k]) printf "      %-20s %s\n", k, src[k]
				else { printf "      %-20s DIFFERS: target%s, source%s\n", k, tgt[k], src[k]; bad = 1 }
			}
			exit bad
		}' "$work/results/$1.source.checks" "$work/results/$1.checks"
}

# sample_stream DB T0: until killed, every EVERY s, one line "seconds since
# T0, state, lag_bytes, lag_seconds, applied_transactions, worker_pid, the
# worker's RssAnon in kB, error" of tsmigrate.stream_status
sample_stream() {
	local db=$1 start=$2 line pid rss
	while :; do
		if line=$(tgt_psql "$db" "-F '|' -c \"SELECT state, coalesce(lag_bytes::text, '-'), coalesce(round(lag_seconds::numeric, 2)::text, '-'), coalesce(applied_transactions::text, '-'), coalesce(worker_pid::text, '-'), coalesce(error, '') FROM tsmigrate.stream_status('$SERVER')\"" 2>&1); then
			line=$(echo "$line" | head -1)
		else
			line="-|-|-|-|-|stream_status failed: $(echo "$line" | grep -m1 ERROR)"
		fi
		[ -n "$line" ] || line="(no run)|-|-|-|-|"
		pid=$(echo "$line" | cut -d'|' -f5)
		rss=-
		[[ $pid =~ ^[0-9]+$ ]] && rss=$(awk '/^RssAnon:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)
		echo "$(elapsed "$start" "$(now)")|$(echo "$line" | cut -d'|' -f1-5)|${rss:--}|$(echo "$line" | cut -d'|' -f6-)"
		sleep "$EVERY"
	done
}

# timed NAME DB SQL...: runs the SQL on DB, its output into logs/NAME.log,
# its seconds into results/NAME.seconds and its exit code into results/NAME.rc
timed() {
	local name=$1 db=$2 t rc
	shift 2
	t=$(now)
	tgt_psql "$db" "$@" >"$work/logs/$name.log" 2>&1
	rc=$?
	elapsed "$t" "$(now)" >"$work/results/$name.seconds"
	echo "$rc" >"$work/results/$name.rc"
	return $rc
}
seconds() { cat "$work/results/$1.seconds" 2>/dev/null || echo -; }
# error_of NAME: the first ERROR line of its log
error_of() { grep -m1 'ERROR' "$work/logs/$1.log" | cut -c1-300; }


echo
echo "== 1. documented procedure, the load stopped (load average $(loadavg))"
prepare documented
db=documented
t=$(now)
as_test_user "pg_dumpall -h '$work/source' -p $src_port -l src --quote-all-identifiers --roles-only --file='$work/roles.sql'" 2>"$work/logs/dump.log" &&
	sed -i -E \
		-e "/CREATE ROLE \"$TEST_USER\";/d" \
		-e "/ALTER ROLE \"$TEST_USER\"/d" \
		-e 's/(NO)*SUPERUSER//g' \
		-e 's/(NO)*REPLICATION//g' \
		-e 's/(NO)*BYPASSRLS//g' \
		-e 's/GRANTED BY "[^"]*"//g' \
		"$work/roles.sql" &&
	as_test_user "pg_dump -h '$work/source' -p $src_port --format=plain --quote-all-identifiers --no-tablespaces --no-owner --no-privileges --file='$work/dump.sql' src" 2>>"$work/logs/dump.log" &&
	t1=$(now) &&
	as_test_user "psql -X -h '$work/target' -p $tgt_port -d documented -v ON_ERROR_STOP=1 --echo-errors -c 'CREATE EXTENSION timescaledb' -f '$work/roles.sql' -c 'SELECT timescaledb_pre_restore()' -f '$work/dump.sql' -c 'SELECT public.timescaledb_post_restore()'" \
		>"$work/logs/documented.log" 2>&1
rc=$?
elapsed "$t" "$(now)" >"$work/results/documented.seconds"
if [ $rc = 0 ]; then
	echo "   $(seconds documented) s (dump $(elapsed "$t" "$t1") s, restore $(elapsed "$t1" "$(now)") s)"
else
	echo "   FAILED (exit $rc after $(seconds documented) s); the end of its output:"
	tail -n 8 "$work/logs/documented.log" | sed 's/^/      /'
	echo "-" >"$work/results/documented.seconds"
fi
echo "   checks against the source:"
compare documented || echo "   the documented procedure's copy DIFFERS from the source"
rm -f "$work/dump.sql" "$work/roles.sql"
tgt_psql postgres "-c 'DROP DATABASE documented WITH (FORCE)'" || die "DROP DATABASE documented failed"


echo
echo "== 2. offline migrate under the load (load average $(loadavg))"
prepare offline
chunks0=$(source_chunks)
start_load offline
sleep "$WARMUP"
timed offline offline "-c \"CALL tsmigrate.migrate('$SERVER', jobs => $JOBS, roles => false)\""
rc=$?
stop_load
steps offline >"$work/results/offline.steps"
echo "   $(seconds offline) s, exit $rc ($(steps_line "$work/results/offline.steps"))"
[ $rc = 0 ] || echo "   its error (expected: the source changed under it): $(error_of offline)"
echo "   load: $(load_of offline) over $(seconds load.offline) s; the source made $(($(source_chunks) - chunks0)) chunks"
tgt_psql postgres "-c 'DROP DATABASE offline WITH (FORCE)'" || die "DROP DATABASE offline failed"


echo
echo "== 3. online migrate under the load (load average $(loadavg))"
logpos=$(stat -c %s "$work/target/server.log")
prepare online
chunks0=$(source_chunks)
start_load online
sleep "$WARMUP"
t_online=$(now)
sample_stream online "$t_online" >"$work/results/stream.samples" &
sampler=$!
timed online online "-c \"CALL tsmigrate.migrate('$SERVER', jobs => $JOBS, roles => false, online => true)\""
rc=$?
steps online >"$work/results/online.steps"
chunks1=$(source_chunks)
echo "   copy phase (the migrate call): $(seconds online) s, exit $rc ($(steps_line "$work/results/online.steps"))"
if [ $rc != 0 ]; then
	echo "   its error: $(error_of online)"
	grep -v '^NOTICE' "$work/logs/online.log" | tail -n 8 | sed 's/^/      /'
fi
grep -E 'WARNING|HINT|streaming' "$work/logs/online.log" | head -5 | sed 's/^/      /'
sleep "$STREAM"
stop_load
stream_end=$(elapsed "$t_online" "$(now)")
sleep 1
kill "$sampler" 2>/dev/null
wait "$sampler" 2>/dev/null
chunks2=$(source_chunks)
echo "   streamed $STREAM s, the load stopped: $(load_of online) over $(seconds load.online) s; the source made"
echo "   $((chunks1 - chunks0)) chunks during the copy phase, $((chunks2 - chunks1)) while streaming"
echo "   stream_status before cutover: $(tgt_psql online "-F ' ' -c \"SELECT state, lag_bytes, round(lag_seconds::numeric, 2), applied_transactions FROM tsmigrate.stream_status('$SERVER')\"" 2>&1)"

timed cutover online "-c \"CALL tsmigrate.cutover('$SERVER')\""
rc=$?
downtime=$(sed -n 's/.*downtime \([0-9.]*\) s.*/\1/p' "$work/logs/cutover.log" | tail -1)
steps online >"$work/results/cutover.steps"
echo "   cutover: $(seconds cutover) s, exit $rc; its NOTICE: downtime ${downtime:-(none)} s"
sed 's/^/      /' "$work/logs/cutover.log"
not_ok=$(tgt_psql online "-c \"SELECT count(*) FROM tsmigrate.verify('$SERVER', checksums => false) WHERE NOT ok\"" 2>&1)
echo "   after cutover, tsmigrate.verify('$SERVER', checksums => false): $not_ok rows not ok"
[ "$not_ok" = 0 ] ||
	tgt_psql online "-c \"SELECT kind, object, source_value, target_value FROM tsmigrate.verify('$SERVER', checksums => false) WHERE NOT ok LIMIT 20\"" 2>&1 | sed 's/^/      /'
echo "   checks against the source:"
if compare online; then checks=equal; else checks=DIFFER; fi
echo "   left on the source: $(src_psql "-c \"SELECT count(*) FROM pg_replication_slots\"") replication slots, $(src_psql "-c \"SELECT count(*) FROM pg_publication\"") publications"
echo "   the target's log since the online migrate began: the stream worker's lines, ERROR, FATAL, PANIC"
tail -c +$((logpos + 1)) "$work/target/server.log" | grep -E 'tsmigrate|ERROR|FATAL|PANIC' |
	sed -E 's/^[0-9-]+ [0-9:.]+ [A-Z]+ //' | head -30 | sed 's/^/      /'


echo
echo "== the stream, sampled every $EVERY s (t = seconds since the online migrate call; the call"
echo "   returned at $(seconds online) s, the load stopped at $stream_end s); lag_bytes = the source's WAL"
echo "   behind the slot, lag_seconds = how far behind the source the target is (README), worker RssAnon in MB"
printf '| %6s | %-10s | %10s | %11s | %8s | %9s |\n' t state lag_bytes lag_seconds applied "worker MB"
printf '|%s|%s|%s|%s|%s|%s|\n' -------- ------------ ------------ ------------- ---------- -----------
awk -F'|' '{ mb = ($7 ~ /^[0-9]+$/) ? sprintf("%.1f", $7 / 1024) : "-"
	printf "| %6s | %-10s | %10s | %11s | %8s | %9s |%s\n", $1, $2, $3, $4, $5, mb, ($8 ~ /[^ ]/) ? " error: " $8 : "" }' \
	"$work/results/stream.samples"
lag_median=$(awk -F'|' '$2 == "streaming" && $3 ~ /^[0-9]+$/ { print $3 }' "$work/results/stream.samples" | median)
streamsum=$(awk -F'|' -v med="$lag_median" '$2 == "streaming" && $3 ~ /^[0-9]+$/ {
		n++; if ($3 + 0 > mb) mb = $3 + 0; if ($4 + 0 > ms) ms = $4 + 0
		if ($7 ~ /^[0-9]+$/) { if (!r0 || $7 + 0 < r0) r0 = $7 + 0; if ($7 + 0 > r1) r1 = $7 + 0 } }
	END {
		if (!n) { print "no sample while streaming"; exit }
		printf "%d samples while streaming: lag_bytes median %.0f, max %.0f; lag_seconds max %.2f; worker RssAnon %.1f to %.1f MB",
			n, med, mb, ms, r0 / 1024, r1 / 1024 }' "$work/results/stream.samples")
echo "   $streamsum"


doc=$(seconds documented)
off=$(seconds offline)
copy=$(seconds online)
cut=$(seconds cutover)
[ "$(cat "$work/results/online.rc")" = 0 ] || copy=-
[ "$(cat "$work/results/cutover.rc")" = 0 ] || cut=-
echo
echo "== results: scale $SCALE ($(src_psql "-c \"SELECT pg_size_pretty(pg_database_size('src'))\"") at the end), load pgbench -R $RATE -c $CLIENTS, jobs $JOBS; load average now $(loadavg)"
printf '| %-58s | %-8s | %8s | %8s |\n' phase load seconds downtime
printf '|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..60})" ---------- ---------- ----------
printf '| %-58s | %-8s | %8s | %8s |\n' "documented: pg_dumpall + pg_dump plain + psql" stopped "$doc" "$doc"
printf '| %-58s | %-8s | %8s | %8s |\n' "tsmigrate.migrate, offline (whole CALL)" "$RATE tps" "$off" "$off"
printf '| %-58s | %-8s | %8s | %8s |\n' "tsmigrate.migrate(online => true): copy phase (whole CALL)" "$RATE tps" "$copy" 0
printf '| %-58s | %-8s | %8s | %8s |\n' "streaming" "$RATE tps" "$STREAM" 0
printf '| %-58s | %-8s | %8s | %8s |\n' "tsmigrate.cutover (whole CALL)" stopped "$cut" "$cut"
echo
cutsteps=$(awk '$1 == "cutover" || $1 == "jobs" || $1 == "verify" { printf "%s%s %s s", (n++ ? ", " : ""), $1, $2 }' "$work/results/cutover.steps")
echo "cutover's NOTICE: downtime ${downtime:--} s; its steps: ${cutsteps:--}"
echo "verify after cutover: ${not_ok} rows not ok; the tables' checks: $checks"
echo "load kept up: offline $(load_of offline); online $(load_of online)"
echo "stream: $streamsum"
echo
echo "ratios and goals (from the issue):"
goal() { # label value operator limit
	awk -v l="$1" -v v="$2" -v op="$3" -v m="$4" 'BEGIN {
		if (v == "-") { printf "   %-48s n/a\n", l; exit }
		ok = (op == "<") ? (v + 0 < m + 0) : (v + 0 <= m + 0)
		printf "   %-48s %6s  (goal %s %s): %s\n", l, v, op, m, ok ? "met" : "NOT met" }'
}
goal "downtime: cutover call, s" "$cut" "<" 5
goal "downtime: cutover's NOTICE, s" "${downtime:--}" "<" 5
goal "cutover / offline migrate" "$(ratio "$cut" "$off")" "<" 0.05
goal "copy phase / offline migrate, same load" "$(ratio "$copy" "$off")" "<=" 1.3
printf '   %-48s %6s\n' "cutover / documented procedure" "$(ratio "$cut" "$doc")"
printf '   %-48s %6s\n' "offline migrate / documented procedure" "$(ratio "$off" "$doc")"
