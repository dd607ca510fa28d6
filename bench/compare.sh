#!/usr/bin/env bash
#
# bench/compare.sh: tsmigrate against the other ways of moving a database.
#
# As root on a Debian 12 machine where PostgreSQL 15, pgcopydb and tsmigrate
# are installed (`make install` beforehand: this script builds nothing).
# Starts a source and a target cluster as the unprivileged user tsmtest
# (scripts/lib.sh), loads bench/dataset.sql into the source at SCALE, then,
# interleaved, for ROUNDS rounds, copies the source into a fresh, empty
# database of the target with each method:
#
#   documented  pg_dump --format=plain --quote-all-identifiers --no-tablespaces
#               --no-owner --no-privileges to a file, then psql -f (both timed)
#   pgdump_dir  pg_dump -Fd -j2, then pg_restore -j2 (both timed)
#   pgcopydb    pgcopydb clone --table-jobs 2 --index-jobs 2
#   tsmigrate   CREATE EXTENSION tsmigrate; CALL tsmigrate.migrate(source,
#               jobs => 2, roles => false): the whole call, which also runs
#               ANALYZE and verify; its steps pre-data + data + post-data
#               (from tsmigrate.progress) are reported on a line of their own
#   floor       COPY ... FROM local binary files (exported once from the
#               source with COPY ... TO ... (FORMAT binary)) in 2 sessions,
#               into a database that already has the pre-data schema, then
#               the post-data (pg_restore -j2 --section=post-data); the load
#               and the post-data are timed
#
# While each method runs, /proc/<pid>/status of every child of the target's
# postmaster is read every 0.2 s: the peak RssAnon (private memory) of one
# process and of their sum are reported, and the same for the client
# processes the method starts (pg_dump, psql, pg_restore, pgcopydb).
# The first round checks each method's row counts of the four tables
# against the source's.  Prints, per method, the median seconds over the
# rounds, tsmigrate's time over the method's, and the peak memory.
#
# Environment: SCALE (default 1: about 1.7 GB, 10M metrics rows), ROUNDS
# (default 3), PORT (first port to try, default 56100), TSM_TEST_USER (the
# unprivileged user, default tsmtest), TMPDIR (where the work directory
# goes), KEEP=1 to keep the work directory and its clusters' logs.
#
#   SCALE=0.3 ROUNDS=3 bash bench/compare.sh

set -uo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SCALE=${SCALE:-1}
ROUNDS=${ROUNDS:-3}
PORT=${PORT:-56100}
METHODS=(documented pgdump_dir pgcopydb tsmigrate floor)
TABLES=(sites devices metrics events)

die() { echo "compare.sh: $*" >&2; exit 1; }

require_root
ensure_test_user
[ -f "$($PG_CONFIG --sharedir)/extension/tsmigrate.control" ] ||
	die "tsmigrate is not installed: run make install first"
PGCOPYDB=$(command -v pgcopydb) || die "pgcopydb is not installed"

work=$(mktemp -d -t tsm_compare.XXXXXX)
chmod 755 "$work"
mkdir "$work/source" "$work/target" "$work/files" "$work/results" "$work/logs"
cp "$repo/bench/dataset.sql" "$work/"
chown -R "$TEST_USER" "$work"

trap cleanup EXIT
trap 'exit 130' INT TERM


src_port=$(free_port "$PORT")
start_cluster "$work/source" "$src_port" || die "the source cluster did not start"
tgt_port=$(free_port $((src_port + 1)))
start_cluster "$work/target" "$tgt_port" || die "the target cluster did not start"

SRC_CONN="host=$work/source port=$src_port dbname=src"
SRC_URI="postgres://$TEST_USER@127.0.0.1:$src_port/src"

echo "== machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo) RAM, $(uname -sr); $(postgres --version); $("$PGCOPYDB" --version 2>/dev/null | head -1)"
echo "== source: bench/dataset.sql at scale $SCALE"
t0=$(now)
as_test_user "psql -X -q -v ON_ERROR_STOP=1 -h '$work/source' -p $src_port -d postgres -c 'CREATE DATABASE src'" ||
	die "CREATE DATABASE src failed"
src_psql "-v scale=$SCALE -f '$work/dataset.sql'" >/dev/null || die "bench/dataset.sql failed"
src_psql "-c 'VACUUM (FREEZE, ANALYZE)' -c CHECKPOINT" || die "VACUUM failed"
echo "   built in $(elapsed "$t0" "$(now)") s: $(src_psql "-c \"SELECT pg_size_pretty(pg_database_size('src'))\"")"

declare -A expected
for t in "${TABLES[@]}"; do
	expected[$t]=$(src_psql "-c 'SELECT count(*) FROM public.$t'")
	echo "   $t: ${expected[$t]} rows"
done

echo "== floor: binary files of the tables, and the schema in two sections"
for t in "${TABLES[@]}"; do
	src_psql "-c \"COPY public.$t TO '$work/files/$t.bin' (FORMAT binary)\"" || die "COPY $t TO file failed"
done
as_test_user "pg_dump -h '$work/source' -p $src_port --schema-only --no-owner --no-privileges -Fc -f '$work/files/schema.dump' src" ||
	die "pg_dump --schema-only failed"
echo "   $(du -sh "$work/files" | cut -f1) of files"


# the methods: each runs as the test user against database $db of the target,
# writes extra numbers to $res/<name> and returns non-zero on failure
m_documented() {
	as_test_user "pg_dump -h '$work/source' -p $src_port --format=plain --quote-all-identifiers --no-tablespaces --no-owner --no-privileges -f '$work/dump.sql' src" &&
		tgt_psql "$db" "-f '$work/dump.sql'" >/dev/null
}

m_pgdump_dir() {
	as_test_user "pg_dump -h '$work/source' -p $src_port -Fd -j2 -f '$work/dump.dir' src" &&
		as_test_user "pg_restore -h '$work/target' -p $tgt_port -j2 -d $db '$work/dump.dir'"
}

m_pgcopydb() {
	as_test_user "'$PGCOPYDB' clone --source '$SRC_URI' --target 'postgres://$TEST_USER@127.0.0.1:$tgt_port/$db' --table-jobs 2 --index-jobs 2 --dir '$work/pgcopydb'"
}

m_tsmigrate() {
	tgt_psql "$db" "-c 'CREATE EXTENSION tsmigrate' -c \"CALL tsmigrate.migrate('$SRC_CONN', jobs => 2, roles => false)\"" || return 1
	tgt_psql "$db" "-F ' ' -c \"SELECT step, round(extract(epoch FROM elapsed)::numeric, 2) FROM tsmigrate.progress WHERE relation IS NULL\"" >"$res/steps"
}

floor_prepare() {
	as_test_user "pg_restore -h '$work/target' -p $tgt_port --section=pre-data -d $db '$work/files/schema.dump'"
}

m_floor() {
	local t1
	# two sessions, as the others have two jobs: metrics, then the rest
	tgt_psql "$db" "-c \"COPY public.metrics FROM '$work/files/metrics.bin' (FORMAT binary)\"" &
	local p1=$!
	tgt_psql "$db" "-c \"COPY public.events FROM '$work/files/events.bin' (FORMAT binary)\"" \
		"-c \"COPY public.devices FROM '$work/files/devices.bin' (FORMAT binary)\"" \
		"-c \"COPY public.sites FROM '$work/files/sites.bin' (FORMAT binary)\""
	local rc=$?
	wait $p1 || rc=1
	[ $rc = 0 ] || return 1
	t1=$(now)
	echo "load $(elapsed "$t0" "$t1")" >"$res/steps"
	as_test_user "pg_restore -h '$work/target' -p $tgt_port -j2 --section=post-data -d $db '$work/files/schema.dump'" || return 1
	echo "post-data $(elapsed "$t1" "$(now)")" >>"$res/steps"
}

check_counts() {
	local t got ok=0
	for t in "${TABLES[@]}"; do
		got=$(tgt_psql "$db" "-c 'SELECT count(*) FROM public.$t'" 2>/dev/null)
		if [ "$got" != "${expected[$t]}" ]; then
			echo "   WRONG: $t has ${got:-no} rows, the source ${expected[$t]}"
			ok=1
		fi
	done
	[ $ok = 0 ] && echo "   row counts of ${TABLES[*]}: equal to the source's"
	return $ok
}

run() {
	local method=$1 round=$2 db="bench_${1//-/_}_$2" res="$work/results/$1.$2" rc spid mpid t1
	mkdir -p "$res"
	rm -rf "$work/dump.sql" "$work/dump.dir" "$work/pgcopydb"
	tgt_psql postgres "-c 'CREATE DATABASE $db'" || die "CREATE DATABASE $db failed"
	[ "$method" = floor ] && { floor_prepare || die "floor: pre-data failed"; }
	tgt_psql postgres "-c CHECKPOINT"
	src_psql "-c CHECKPOINT"
	sync

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

	if [ $rc = 0 ]; then
		echo "$(elapsed "$t0" "$t1")" >"$res/seconds"
		if [ "$method" = floor ]; then
			awk '{ s += $2 } END { printf "%.2f\n", s }' "$res/steps" >"$res/seconds"
		fi
		printf '   round %s  %-10s %8s s\n' "$round" "$method" "$(cat "$res/seconds")"
	else
		echo "   round $round  $method FAILED (exit $rc); the end of its output:"
		tail -n 15 "$work/logs/$method.$round.log" | sed 's/^/      /'
	fi
	awk '{ if ($1 > m[1]) { who = $0; for (i = 1; i <= 4; i++) sub(/^[^ ]+ +/, "", who) }
	       for (i = 1; i <= 4; i++) if ($i > m[i]) m[i] = $i }
	     END { print m[1] + 0, m[2] + 0, m[3] + 0, m[4] + 0, who }' "$res/memory" >"$res/peak"
	if [ "$round" = 1 ] && [ $rc = 0 ]; then
		check_counts || echo "wrong" >"$res/wrong"
	fi
	tgt_psql postgres "-c 'DROP DATABASE $db'" || die "DROP DATABASE $db failed"
	rm -rf "$work/dump.sql" "$work/dump.dir" "$work/pgcopydb"
}

echo "== $ROUNDS rounds, methods interleaved (the starting method rotates each round)"
n=${#METHODS[@]}
for ((r = 1; r <= ROUNDS; r++)); do
	for ((i = 0; i < n; i++)); do
		run "${METHODS[$(((i + r - 1) % n))]}" "$r"
	done
done


declare -A med
for m in "${METHODS[@]}"; do
	med[$m]=$(seconds_of "$m" | median)
done
steps=$(for d in "$work/results"/tsmigrate.*; do
	[ -f "$d/seconds" ] && awk '$1 == "pre-data" || $1 == "data" || $1 == "post-data" { s += $2 } END { printf "%.2f\n", s }' "$d/steps"
done | median)
ts=${med[tsmigrate]}

label() {
	case $1 in
	documented) echo "pg_dump plain + psql -f (documented)" ;;
	pgdump_dir) echo "pg_dump -Fd -j2 + pg_restore -j2" ;;
	pgcopydb) echo "pgcopydb clone, 2+2 jobs" ;;
	tsmigrate) echo "tsmigrate.migrate, jobs 2 (whole CALL)" ;;
	floor) echo "floor: COPY binary files + post-data" ;;
	esac
}

echo
echo "== results: scale $SCALE, $ROUNDS rounds, median seconds; ratio = tsmigrate / method;"
echo "   memory = peak RssAnon in MB: one target process (max) and all of them (sum), and the client processes'"
printf '| %-44s | %8s | %-24s | %9s | %9s | %8s | %8s | %8s |\n' \
	method median rounds "ts total/" "ts steps/" "tgt max" "tgt sum" "client"
printf '|%s|%s|%s|%s|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..46})" ---------- -------------------------- ----------- ----------- ---------- ---------- ----------
for m in "${METHODS[@]}"; do
	rounds=$(seconds_of "$m" | tr '\n' ' ')
	[ -n "$(ls "$work/results/$m".*/wrong 2>/dev/null)" ] && rounds="$rounds(WRONG COUNTS)"
	printf '| %-44s | %8s | %-24s | %9s | %9s | %8s | %8s | %8s |\n' "$(label "$m")" "${med[$m]}" "${rounds:-failed}" \
		"$(ratio "$ts" "${med[$m]}")" "$(ratio "$steps" "${med[$m]}")" \
		"$(peak_of "$m" 1)" "$(peak_of "$m" 2)" "$(peak_of "$m" 3)"
done
printf '| %-44s | %8s | %-24s | %9s | %9s | %8s | %8s | %8s |\n' "tsmigrate steps pre-data + data + post-data" "$steps" "" "" "" "" "" ""

echo
echo "tsmigrate steps, median s:"
for s in checks extensions pre-data data post-data analyze verify; do
	printf '   %-10s %6s\n' "$s" "$(step_of tsmigrate "$s" | median)"
done
echo
echo "the largest target process at its peak, per method (its process title):"
for m in "${METHODS[@]}"; do
	cat "$work/results/$m".*/peak 2>/dev/null | sort -k1,1gr | head -1 |
		awk -v m="$m" '{ kb = $1; for (i = 1; i <= 4; i++) sub(/^[^ ]+ +/, ""); printf "   %-10s %4.0f MB  %s\n", m, kb / 1024, $0 }'
done
echo "floor, median s: load $(step_of floor load | median), post-data $(step_of floor post-data | median)"

echo
echo "goals (from the issue):"
goal() { # label value limit
	awk -v l="$1" -v v="$2" -v m="$3" 'BEGIN {
		if (v == "-") printf "   %-44s n/a\n", l
		else printf "   %-44s %5s  (goal <= %s): %s\n", l, v, m, (v + 0 <= m + 0 ? "met" : "NOT met") }'
}
goal "tsmigrate / documented" "$(ratio "$ts" "${med[documented]}")" 0.5
goal "tsmigrate / pgcopydb" "$(ratio "$ts" "${med[pgcopydb]}")" 0.7
goal "tsmigrate / floor (whole CALL)" "$(ratio "$ts" "${med[floor]}")" 1.0
goal "tsmigrate / floor (pre-data+data+post-data)" "$(ratio "$steps" "${med[floor]}")" 1.0
goal "tsmigrate peak RssAnon of one process, MB" "$(peak_of tsmigrate 1)" 128
