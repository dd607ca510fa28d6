# t/SchemaCompare.pm
#
# The measure of a schema migration: pg_dump --schema-only of the source
# and of the target, normalized, must be identical.
#
#   use SchemaCompare;
#   is(schema_dump_diff($source, 'db', $target, 'db'), '', 'same schema');
#
# Both dumps are taken with --schema-only --no-owner --no-privileges
# --no-tablespaces --quote-all-identifiers (plus any "pg_dump_args"), with
# the pg_dump of the installation under test.  Normalizing: comment lines,
# blank lines, SET and set_config lines and \restrict lines go; the rest is
# split into statements (quotes, quoted identifiers and dollar quotes are
# respected, so a function body stays one statement), leading and trailing
# white space is trimmed, and the statements are sorted.  The result lists
# the statements found on one side only, "- " for the source and "+ " for
# the target, or is '' when the two are the same.
#
# Options:
#   ignore => [qr/.../, ...]   statements to leave out on both sides; the
#                              default leaves out the tsmigrate extension
#                              and its schema, which only the target has
#   pg_dump_args => [...]      more pg_dump options, e.g. ('--schema', 'x')
#   owners_and_privileges => 1 compare owners and privileges too (no
#                              --no-owner, --no-privileges)

package SchemaCompare;

use strict;
use warnings FATAL => 'all';

use Exporter 'import';
use IPC::Run;
use PostgreSQL::Test::Utils;

our @EXPORT = qw(schema_dump_diff schema_dump_statements);

our @DEFAULT_IGNORE = (
	qr/^CREATE SCHEMA "tsmigrate"$/,
	qr/^ALTER SCHEMA "tsmigrate" OWNER TO /,
	qr/^CREATE EXTENSION IF NOT EXISTS "tsmigrate" /,
	qr/^COMMENT ON EXTENSION "tsmigrate" /);

# The normalized statements of one database's schema dump, sorted.
sub schema_dump_statements
{
	my ($node, $dbname, %opts) = @_;
	my @ignore = @{ $opts{ignore} // \@DEFAULT_IGNORE };
	my @extra = @{ $opts{pg_dump_args} // [] };

	my ($stdout, $stderr);
	my @without = $opts{owners_and_privileges} ? () : ('--no-owner', '--no-privileges');
	my $ok = IPC::Run::run(
		[
			$node->installed_command('pg_dump'), '--schema-only',
			@without, '--no-tablespaces', '--quote-all-identifiers',
			@extra, '-d', $node->connstr($dbname)
		],
		'>', \$stdout, '2>', \$stderr);
	die "pg_dump of database \"$dbname\" failed: $stderr" unless $ok;

	my @lines = grep {
		!/^--/
		  && !/^\s*$/
		  && !/^SET \w+ = /
		  && !/^SELECT pg_catalog\.set_config\(/
		  && !/^\\(un)?restrict /
	} split /\n/, $stdout;

	my @stmts;
	foreach my $stmt (_split_statements(join("\n", @lines) . "\n"))
	{
		$stmt =~ s/^\s+|\s+$//g;
		next if $stmt eq '';
		next if grep { $stmt =~ $_ } @ignore;
		push @stmts, $stmt;
	}
	return sort @stmts;
}

# Statements found on one side only, or '' when both dumps are the same.
sub schema_dump_diff
{
	my ($src_node, $src_db, $tgt_node, $tgt_db, %opts) = @_;
	my @src = schema_dump_statements($src_node, $src_db, %opts);
	my @tgt = schema_dump_statements($tgt_node, $tgt_db, %opts);

	my %count;
	$count{$_}++ foreach @src;
	$count{$_}-- foreach @tgt;
	my $diff = '';
	foreach my $stmt (sort keys %count)
	{
		my $n = $count{$stmt};
		$diff .= "- $stmt\n" x $n if $n > 0;
		$diff .= "+ $stmt\n" x -$n if $n < 0;
	}
	return $diff;
}

# Split SQL text at the semicolons that end statements.
sub _split_statements
{
	my ($sql) = @_;
	my @stmts;
	my $cur = '';
	my $len = length $sql;
	my $i = 0;
	while ($i < $len)
	{
		my $c = substr($sql, $i, 1);
		if ($c eq "'" || $c eq '"')
		{
			# a literal or quoted identifier: doubled quotes stay inside
			my $j = $i + 1;
			while ($j < $len)
			{
				if (substr($sql, $j, 1) eq $c)
				{
					last unless substr($sql, $j + 1, 1) eq $c;
					$j++;
				}
				$j++;
			}
			$cur .= substr($sql, $i, $j - $i + 1);
			$i = $j + 1;
		}
		elsif ($c eq '$'
			&& substr($sql, $i) =~ /^(\$[A-Za-z_\x80-\xff][A-Za-z_0-9\x80-\xff]*\$|\$\$)/
			&& ($i == 0 || substr($sql, $i - 1, 1) !~ /[A-Za-z_0-9\x80-\xff]/))
		{
			my $tag = $1;
			my $end = index($sql, $tag, $i + length $tag);
			$end = $len - length $tag if $end < 0;
			$cur .= substr($sql, $i, $end + length($tag) - $i);
			$i = $end + length $tag;
		}
		elsif ($c eq ';')
		{
			push @stmts, $cur;
			$cur = '';
			$i++;
		}
		else
		{
			$cur .= $c;
			$i++;
		}
	}
	push @stmts, $cur if $cur =~ /\S/;
	return @stmts;
}

1;
