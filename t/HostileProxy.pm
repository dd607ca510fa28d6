# t/HostileProxy.pm
#
# A man in the middle that plays a hostile source, for t/064_hostile_source.pl.
#
# It listens on 127.0.0.1, takes the connections of the target's libpq,
# refuses SSL and GSSAPI encryption (so that it can read the traffic, as an
# attacker on an unencrypted path could), and relays the frontend/backend
# protocol (version 3) between each of them and a real source server.  The
# answers of the source pass through unchanged, except the results of the
# one query named by the control file, which are rewritten:
#
#	null <key> <column>		a NULL in that column of every row
#	nan <key> <column>		"x" in it: not a number, nor a boolean
#	long <key> <column>		100000 bytes in it
#	set <key> <column> <hex>	the text whose bytes are <hex> in it
#	empty <key>				no rows at all
#	extra <key>				one more column ("fuzz", text)
#	missing <key>			the last column left out
#	off						nothing rewritten
#
# A query's key is the MD5 of its text, with the names that follow FROM and
# the column lists of ROW() blanked out, so that the same query on another
# table (a sequence, a table's rows) has the same key.  Both simple queries
# and the extended protocol's Parse are understood.  The control file is read
# again whenever it changes.
#
# Every result the proxy sees is logged, one line per result in the log
# file: "Q", key, number of columns, number of rows, what each column looked
# like ("n" numbers, "b" booleans, "s" text, "-" NULL or no rows, one letter
# per column), whether it was rewritten, and the start of the query text.
#
# The proxy is a child process of the test; stop() ends it.  It is meant for
# tests only: it trusts its own arguments and handles one source.

package HostileProxy;

use strict;
use warnings FATAL => 'all';

use Digest::MD5 qw(md5_hex);
use IO::Select;
use IO::Socket::INET;
use POSIX ();
use Socket qw(IPPROTO_TCP TCP_NODELAY);

# start(upstream_port => N, dir => D): listen, fork the relay; returns the
# proxy, whose port() clients connect to
sub start
{
	my ($class, %args) = @_;
	my $listen = IO::Socket::INET->new(
		LocalAddr => '127.0.0.1',
		LocalPort => 0,
		Listen => 64,
		ReuseAddr => 1,
		Proto => 'tcp') or die "proxy: cannot listen: $!";
	my $self = bless {
		port => $listen->sockport,
		upstream => $args{upstream_port},
		control => "$args{dir}/hostile_proxy.control",
		log => "$args{dir}/hostile_proxy.log",
	}, $class;
	$self->set('off');
	$self->clear_log;

	my $pid = fork;
	die "proxy: cannot fork: $!" unless defined $pid;
	if ($pid == 0)
	{
		eval { $self->_serve($listen); };
		print STDERR "proxy: $@" if $@;
		POSIX::_exit(0);
	}
	close $listen;
	$self->{pid} = $pid;
	return $self;
}

sub port { return $_[0]->{port}; }

# the rewrite for the next queries: "off", or "<mode> <key> [<column>]"
sub set
{
	my ($self, $spec) = @_;
	my $tmp = "$self->{control}.tmp";
	open my $fh, '>', $tmp or die $!;
	print $fh "$spec\n";
	close $fh;
	rename $tmp, $self->{control} or die $!;
	return;
}

sub clear_log
{
	my ($self) = @_;
	open my $fh, '>', $self->{log} or die $!;
	close $fh;
	return;
}

# the results logged since clear_log: a list of hashes (key, ncols, nrows,
# shape, mutated, sql)
sub results
{
	my ($self) = @_;
	my @out;
	open my $fh, '<', $self->{log} or die $!;
	while (my $line = <$fh>)
	{
		chomp $line;
		my ($q, $key, $ncols, $nrows, $shape, $mutated, $sql) = split /\t/, $line, 7;
		next unless defined $sql && $q eq 'Q';
		push @out, {
			key => $key,
			ncols => $ncols,
			nrows => $nrows,
			shape => $shape,
			mutated => $mutated,
			sql => $sql
		};
	}
	close $fh;
	return @out;
}

sub stop
{
	my ($self) = @_;
	return unless $self->{pid};
	kill 'TERM', $self->{pid};
	waitpid $self->{pid}, 0;
	delete $self->{pid};
	return;
}

sub DESTROY { $_[0]->stop; }

# the key of a query text
sub query_key
{
	my ($sql) = @_;
	my $norm = $sql;
	$norm =~ s/ROW\((?:[^()]|\([^()]*\))*\)/ROW(?)/g;
	$norm =~ s/(\bFROM\s+(?:ONLY\s+)?)(?:"(?:[^"]|"")*"|[\w\$.]+)+/$1?/g;
	return substr(md5_hex($norm), 0, 12);
}

# --- the relay, in the child -------------------------------------------------

sub _serve
{
	my ($self, $listen) = @_;
	my $sel = IO::Select->new($listen);
	my %conn_of;    # fileno => connection
	$SIG{TERM} = sub { POSIX::_exit(0); };
	$SIG{PIPE} = 'IGNORE';

	for (;;)
	{
		for my $fh ($sel->can_read)
		{
			if ($fh == $listen)
			{
				my $client = $listen->accept or next;
				$client->setsockopt(IPPROTO_TCP, TCP_NODELAY, 1);
				my $c = {
					client => $client,
					server => undef,
					cbuf => '',
					sbuf => '',
					started => 0,
					sql => ''
				};
				$conn_of{ fileno $client } = $c;
				$sel->add($client);
				next;
			}
			my $fd = fileno $fh;
			next unless defined $fd;    # closed with its other end
			my $c = $conn_of{$fd} or next;
			my $n = sysread($fh, my $data, 262144);
			if (!$n)
			{
				_close($c, $sel, \%conn_of);
				next;
			}
			my $ok = eval {
				if ($fh == $c->{client})
				{
					$c->{cbuf} .= $data;
					$self->_from_client($c, $sel, \%conn_of);
				}
				else
				{
					$c->{sbuf} .= $data;
					$self->_from_server($c);
				}
				1;
			};
			_close($c, $sel, \%conn_of) unless $ok;
		}
	}
}

sub _close
{
	my ($c, $sel, $conn_of) = @_;
	for my $side ('client', 'server')
	{
		my $fh = $c->{$side} or next;
		delete $conn_of->{ fileno $fh };
		$sel->remove($fh);
		close $fh;
		$c->{$side} = undef;
	}
	return;
}

sub _write
{
	my ($fh, $data) = @_;
	my $off = 0;
	while ($off < length $data)
	{
		my $n = syswrite($fh, $data, length($data) - $off, $off);
		die "proxy: write failed: $!" unless defined $n;
		$off += $n;
	}
	return;
}

sub _from_client
{
	my ($self, $c, $sel, $conn_of) = @_;

	# the startup phase: untyped packets
	while (!$c->{started} && length $c->{cbuf} >= 8)
	{
		my ($len, $code) = unpack 'NN', $c->{cbuf};
		return if length $c->{cbuf} < $len;
		my $packet = substr $c->{cbuf}, 0, $len, '';
		if ($code == 80877103 || $code == 80877104)
		{
			_write($c->{client}, 'N');    # no SSL, no GSSAPI encryption
			next;
		}
		my $server = IO::Socket::INET->new(
			PeerAddr => '127.0.0.1',
			PeerPort => $self->{upstream},
			Proto => 'tcp') or die "proxy: cannot reach the source: $!";
		$server->setsockopt(IPPROTO_TCP, TCP_NODELAY, 1);
		_write($server, $packet);
		if ($code == 80877102)
		{
			close $server;    # a cancel request: no answer comes
			die "cancel relayed\n";
		}
		$c->{server} = $server;
		$conn_of->{ fileno $server } = $c;
		$sel->add($server);
		$c->{started} = 1;
	}
	return unless $c->{started};

	# typed messages: note the query text, relay as they are
	my $pos = 0;
	my $buf = $c->{cbuf};
	while (length($buf) - $pos >= 5)
	{
		my ($type, $len) = unpack "a N", substr($buf, $pos, 5);
		last if length($buf) - $pos < 1 + $len;
		if ($type eq 'Q')
		{
			$c->{sql} = unpack 'Z*', substr($buf, $pos + 5, $len - 4);
		}
		elsif ($type eq 'P')
		{
			my ($name, $query) = unpack 'Z* Z*', substr($buf, $pos + 5, $len - 4);
			$c->{sql} = $query;
		}
		$pos += 1 + $len;
	}
	_write($c->{server}, substr($buf, 0, $pos)) if $pos > 0;
	$c->{cbuf} = substr $buf, $pos;
	return;
}

sub _control
{
	my ($self) = @_;
	my $mtime = (stat $self->{control})[9] // 0;
	my $size = -s $self->{control} // 0;
	my $stamp = "$mtime/$size";
	if (!defined $self->{stamp} || $self->{stamp} ne $stamp)
	{
		open my $fh, '<', $self->{control} or return $self->{spec};
		my $line = <$fh> // 'off';
		close $fh;
		chomp $line;
		my ($mode, $key, $col, $hex) = split ' ', $line;
		$self->{spec} =
		  $mode eq 'off'
		  ? undef
		  : { mode => $mode, key => $key, col => $col, value => pack('H*', $hex // '') };
		$self->{stamp} = $stamp;
	}
	return $self->{spec};
}

sub _from_server
{
	my ($self, $c) = @_;
	my $pos = 0;
	my $buf = $c->{sbuf};
	my $out = '';

	while (length($buf) - $pos >= 5)
	{
		my ($type, $len) = unpack "a N", substr($buf, $pos, 5);
		last if length($buf) - $pos < 1 + $len;
		my $msg = substr $buf, $pos, 1 + $len;
		$pos += 1 + $len;

		if ($type eq 'T')
		{
			my $key = query_key($c->{sql});
			my $spec = $self->_control;
			my $ncols = unpack 'n', substr($msg, 5, 2);
			$c->{res} = {
				key => $key,
				mut => ($spec && $spec->{key} eq $key) ? $spec : undef,
				ncols => $ncols,
				nrows => 0,
				shape => [ ('-') x $ncols ],
			};
			$msg = _rewrite_description($msg, $c->{res}{mut}) if $c->{res}{mut};
		}
		elsif ($type eq 'D' && $c->{res})
		{
			my @fields = _data_fields($msg);
			$c->{res}{nrows}++;
			_note_shape($c->{res}, \@fields);
			$msg = _rewrite_data(\@fields, $c->{res}{mut}) if $c->{res}{mut};
		}
		elsif ($type eq 'C' && $c->{res})
		{
			my $res = delete $c->{res};
			$self->_log($res, $c->{sql});
			if ($res->{mut} && $res->{mut}{mode} eq 'empty')
			{
				$msg = "SELECT 0\0";
				$msg = 'C' . pack('N', 4 + length $msg) . $msg;
			}
		}
		$out .= $msg if defined $msg;
	}
	_write($c->{client}, $out) if length $out;
	$c->{sbuf} = substr $buf, $pos;
	return;
}

sub _data_fields
{
	my ($msg) = @_;
	my $n = unpack 'n', substr($msg, 5, 2);
	my $p = 7;
	my @fields;
	for (1 .. $n)
	{
		my $flen = unpack 'l>', substr($msg, $p, 4);
		$p += 4;
		if ($flen < 0)
		{
			push @fields, undef;
		}
		else
		{
			push @fields, substr($msg, $p, $flen);
			$p += $flen;
		}
	}
	return @fields;
}

sub _note_shape
{
	my ($res, $fields) = @_;
	my @shape = @{ $res->{shape} };
	for my $i (0 .. $#$fields)
	{
		my $v = $fields->[$i];
		next unless defined $v && $i < @shape;
		my $kind = $v =~ /^-?\d+$/ ? 'n' : $v =~ /^[tf]$/ ? 'b' : 's';
		$shape[$i] = $kind if $shape[$i] eq '-' || $shape[$i] eq $kind;
		$shape[$i] = 's' if $shape[$i] ne $kind;
	}
	$res->{shape} = \@shape;
	return;
}

sub _rewrite_description
{
	my ($msg, $mut) = @_;
	my $n = unpack 'n', substr($msg, 5, 2);
	my $body = substr $msg, 7;
	if ($mut->{mode} eq 'extra')
	{
		$n++;
		$body .= "fuzz\0" . pack('N n N n N n', 0, 0, 25, 65535, 0xffffffff, 0);
	}
	elsif ($mut->{mode} eq 'missing' && $n > 0)
	{
		# each field: its name, then 18 bytes
		my @starts;
		my $p = 0;
		for (1 .. $n)
		{
			push @starts, $p;
			$p = index($body, "\0", $p) + 1 + 18;
		}
		$body = substr $body, 0, $starts[-1];
		$n--;
	}
	$body = pack('n', $n) . $body;
	return 'T' . pack('N', 4 + length $body) . $body;
}

sub _rewrite_data
{
	my ($fields, $mut) = @_;
	my @f = @$fields;
	my $mode = $mut->{mode};
	return undef if $mode eq 'empty';
	if ($mode eq 'extra')
	{
		push @f, 'fuzz';
	}
	elsif ($mode eq 'missing')
	{
		pop @f;
	}
	elsif (defined $mut->{col} && $mut->{col} < @f)
	{
		$f[ $mut->{col} ] =
			$mode eq 'null' ? undef
		  : $mode eq 'nan' ? 'x'
		  : $mode eq 'long' ? ('x' x 100000)
		  : $mode eq 'set' ? $mut->{value}
		  : $f[ $mut->{col} ];
	}
	my $body = pack 'n', scalar @f;
	for my $v (@f)
	{
		$body .= defined $v ? pack('N', length $v) . $v : pack('l>', -1);
	}
	return 'D' . pack('N', 4 + length $body) . $body;
}

sub _log
{
	my ($self, $res, $sql) = @_;
	my $ncols = $res->{ncols};
	my $shape = join('', @{ $res->{shape} });
	(my $text = substr($sql, 0, 120)) =~ s/\s+/ /g;
	open my $fh, '>>', $self->{log} or return;
	print $fh join("\t", 'Q', $res->{key}, $ncols, $res->{nrows}, $shape,
		$res->{mut} ? "$res->{mut}{mode}" : '', $text), "\n";
	close $fh;
	return;
}

1;
