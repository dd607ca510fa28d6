# bench/lib.sh: what the whole-migration benchmarks (compare.sh,
# timescaledb.sh) share, on top of scripts/lib.sh.  They set work (the work
# directory, with source/ and target/ clusters and results/), src_port and
# tgt_port, then source this.  Sourced, not run.

cleanup() {
	local j
	for j in $(jobs -p); do kill "$j" 2>/dev/null; done
	stop_cluster "$work/source"
	stop_cluster "$work/target"
	if [ "${KEEP:-0}" = 1 ]; then
		echo "work directory kept: $work"
	else
		rm -rf "$work"
	fi
}

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

# src_psql args...: on the source's database src
src_psql() { as_test_user "psql -X -q -At -v ON_ERROR_STOP=1 -h '$work/source' -p $src_port -d src $*"; }
# tgt_psql DB args...
tgt_psql() {
	local db=$1
	shift
	as_test_user "psql -X -q -At -v ON_ERROR_STOP=1 -h '$work/target' -p $tgt_port -d $db $*"
}

# sample PID: until killed, every 0.2 s, one line "tgt_max tgt_sum cli_max
# cli_sum title" (kB of RssAnon) over the children of the target's postmaster
# and over the descendants of PID (the method's client processes); title is
# the process title of the largest target process
sample() {
	local root=$1 postmaster
	postmaster=$(head -1 "$work/target/data/postmaster.pid")
	while :; do
		ps -e -o pid=,ppid=,args= | awk -v pm="$postmaster" -v root="$root" '
			{ parent[$1] = $2; title = $0; sub(/^ *[0-9]+ +[0-9]+ +/, "", title); args[$1] = title }
			END {
				# descendants of root: repeat until no new ones
				client[root] = 1
				do {
					added = 0
					for (p in parent)
						if (!(p in client) && (parent[p] in client)) { client[p] = 1; added = 1 }
				} while (added)
				tmax = tsum = cmax = csum = 0
				for (p in parent) {
					side = ""
					if (parent[p] == pm) side = "t"
					else if (p in client) side = "c"
					if (side == "") continue
					kb = 0
					f = "/proc/" p "/status"
					while ((getline line < f) > 0)
						if (line ~ /^RssAnon:/) { split(line, w, " "); kb = w[2] }
					close(f)
					if (side == "t") { tsum += kb; if (kb > tmax) { tmax = kb; twho = args[p] } }
					else { csum += kb; if (kb > cmax) cmax = kb }
				}
				print tmax, tsum, cmax, csum, twho
			}'
		sleep 0.2
	done
}

# median of the numbers on stdin
median() {
	sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) print "-"
		else if (NR % 2) printf "%.2f\n", v[(NR + 1) / 2]
		else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
# method: the seconds of each successful round
seconds_of() { cat "$work/results/$1".*/seconds 2>/dev/null; }
# method step: that step's seconds in each round
step_of() { awk -v s="$2" '$1 == s { print $2 }' "$work/results/$1".*/steps 2>/dev/null; }
# method column: the peak over rounds of column (1..4) of peak, in MB
peak_of() {
	cat "$work/results/$1".*/peak 2>/dev/null |
		awk -v c="$2" '$c > m { m = $c } END { printf "%.0f\n", m / 1024 }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2f\n", a / b }'; }
