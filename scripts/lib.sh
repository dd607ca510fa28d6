# scripts/lib.sh: what scripts/test and scripts/demo share.
#
# Installs the Debian packages tsmigrate needs, builds and installs it, and
# runs throwaway PostgreSQL clusters as an unprivileged user (initdb
# refuses root).  Sourced, not run.

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TEST_USER=${TSM_TEST_USER:-tsmtest}
# The supported targets that the tests and the demo run against: Debian's
# PostgreSQL 15 and PostgreSQL 18 built from ../shared/vendor (scripts/deps.sh).
TARGET_MAJORS=(15 18)
# shellcheck source=scripts/deps.sh
. "$repo/scripts/deps.sh"
original_path=$PATH

# target_bindir MAJOR: the installation a target of that major version runs.
# TSM_PG_BINDIR names another one (a private copy, so that developers
# sharing a machine do not share one `make install`).
target_bindir() {
	if [ -n "${TSM_PG_BINDIR:-}" ]; then
		echo "$TSM_PG_BINDIR"
	elif [ "$1" = 15 ]; then
		echo /usr/lib/postgresql/15/bin
	else
		echo "$TSM_DEPS/pg$1/bin"
	fi
}

# use_target MAJOR: PG_CONFIG and PATH for that target
use_target() {
	bindir=$(target_bindir "$1")
	export PG_CONFIG=$bindir/pg_config
	export PATH=$bindir:$original_path
}

# The targets asked for: PG_MAJOR, or the major of TSM_PG_BINDIR, or all.
if [ -n "${TSM_PG_BINDIR:-}" ]; then
	PG_MAJOR=${PG_MAJOR:-$("$TSM_PG_BINDIR/pg_config" --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')}
fi
if [ -n "${PG_MAJOR:-}" ]; then
	case " ${TARGET_MAJORS[*]} " in
	*" $PG_MAJOR "*) ;;
	*)
		echo "$(basename "$0"): PG_MAJOR=$PG_MAJOR: the targets are ${TARGET_MAJORS[*]}" >&2
		exit 2
		;;
	esac
	majors=("$PG_MAJOR")
else
	majors=("${TARGET_MAJORS[@]}")
fi

require_root() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "$(basename "$0"): run as root: it installs packages and creates the user $TEST_USER" >&2
		exit 2
	fi
}

install_packages() {
	[ "${TSM_SKIP_APT:-0}" = 1 ] && return 0
	echo "== installing packages"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends \
		build-essential ca-certificates perl libipc-run-perl \
		postgresql-15 postgresql-server-dev-15 libpq-dev postgresql-15-cron >/dev/null
	deps_packages
}

# build_and_install [extra CFLAGS]
build_and_install() {
	echo "== building"
	make -C "$repo" -s clean
	make -C "$repo" -s PG_CFLAGS="$*"
	make -C "$repo" -s install
}

ensure_test_user() {
	id "$TEST_USER" >/dev/null 2>&1 || useradd --create-home --shell /bin/bash "$TEST_USER"
}

as_test_user() { su "$TEST_USER" -s /bin/bash -c "$*"; }

# free_port N: the first port from N on that nothing listens on
free_port() {
	local port=$1
	while (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
		port=$((port + 1))
	done
	echo "$port"
}

# start_cluster DIR PORT [postgresql.conf lines...]: a trust-authenticated
# cluster listening on 127.0.0.1 and on a socket in DIR
start_cluster() {
	local dir=$1 port=$2
	shift 2
	as_test_user "initdb -D '$dir/data' -A trust --no-sync >/dev/null"
	{
		echo "port = $port"
		echo "listen_addresses = '127.0.0.1'"
		echo "unix_socket_directories = '$dir'"
		echo "max_worker_processes = 16"
		for line in "$@"; do echo "$line"; done
	} >>"$dir/data/postgresql.conf"
	as_test_user "pg_ctl -D '$dir/data' -l '$dir/server.log' -w start >/dev/null"
}

stop_cluster() {
	as_test_user "pg_ctl -D '$1/data' -m fast stop" >/dev/null 2>&1 || true
}
