-- pull_data: every row of the source into the target's tables.
-- The source is database tsm_data60 of this instance; the target is the
-- regression database.  Both get the same tables (sql_tests/data/60_data_schema.sql).
DROP DATABASE IF EXISTS tsm_data60;
CREATE DATABASE tsm_data60;
SELECT source_conninfo('tsm_data60') AS src \gset

\c tsm_data60
SET client_min_messages = warning;
\i sql_tests/data/60_data_schema.sql
RESET client_min_messages;

INSERT INTO data60.builtin VALUES
 (1, 0.1, 'NaN', 'NaN', 'infinity', '-infinity', '1 year 2 mons -3 days 04:05:06.789', '4713-01-01 BC', '24:00', '23:59:59.999999+14',
  '\x00ff', E'back\\slash \\N tab\there new\nline cr\rend', 'unicode ☃ 𝄞', 'ab', true, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '2001:db8::1/64',
  B'1010', '{1,NULL,3}', '{"a b","c\"d","NULL",NULL,"e\\f"}', '{NaN,Infinity,-Infinity,-0}',
  '[1,10)', '[2020-01-01 00:00+00,infinity)', '{[1,3),[5,8)}', '{"a": [1, 2.5, null, "x\u00e9"], "b": {"c": "\\n"}}', '{"dup": 1, "dup": 2}',
  'fat cat:1A', '<a x="1">t&amp;</a>', '(1.5,-2)', 9223372036854775807, -32768, '12.34'),
 (2, 'NaN', 'Infinity', '-Infinity', '294276-12-31 23:59:59.999999', '2000-02-29 12:34:56.789+05:30', '-178000000 years', '5874897-12-31', '00:00', '00:00-15:59',
  '\x', '', '', '', false, '00000000-0000-0000-0000-000000000000', '0.0.0.0/0',
  B'', '{}', '{}', '{}',
  'empty', '(,)', '{}', '[]', '"x"',
  '', '<!-- c -->', '(0,0)', -9223372036854775808, 0, '-0.01'),
 (3, -0.000000000000000000000000000001, '-0', '-0', '2021-06-01 12:00', '2021-06-01 12:00 Europe/Paris', '0', '2021-06-01', '12:34:56.123456', '12:00+00',
  '\x5c4e', E'\\N', '\N', ' ', NULL, NULL, NULL,
  NULL, '{{1,2},{3,4}}', '{""}', NULL,
  NULL, NULL, NULL, 'null', 'null',
  NULL, NULL, NULL, NULL, NULL, NULL),
 (4, 123456789012345678901234567890.123456789012345678901234567890, 1.17549435e-38, 2.2250738585072014e-308, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL),
 (5, 'Infinity', 3.4028235e+38, 1.7976931348623157e+308, '1999-12-31 23:59:59.5', '1999-12-31 23:59:59.5-08', '1 day -1 second', '2000-01-01', NULL, NULL,
  NULL, repeat(E'\\', 10), NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL);
INSERT INTO data60.usertypes VALUES
 (1, 'happy', ROW(1, E'a,b"c\\d'), ARRAY[ROW(2, 'x')::data60.pair, ROW(NULL, NULL)::data60.pair], '{sad,ok}', 7, '{1,2}'),
 (2, NULL, NULL, NULL, NULL, NULL, NULL),
 (3, 'sad', ROW(NULL, ''), '{}', '{}', 1, '{}');
INSERT INTO data60.gen (id, a) VALUES (10, 1), (20, 2);
INSERT INTO data60.gen (a) VALUES (3);
INSERT INTO data60.big SELECT g, repeat(md5(g::text), 3) FROM generate_series(1, 20000) g;
INSERT INTO data60.toasted
    SELECT g, string_agg(md5(g::text || i::text), '' ORDER BY i),
           decode(string_agg(md5(i::text || g::text), '' ORDER BY i), 'hex')
      FROM generate_series(1, 3) g, generate_series(1, 100000) i GROUP BY g;
INSERT INTO data60.meas SELECT date '2020-01-01' + g, g FROM generate_series(0, 700) g;
INSERT INTO data60.animal VALUES ('generic');
INSERT INTO data60.dog VALUES ('rex', 'collie');
INSERT INTO data60.scratch VALUES (1, 'unlogged');
SELECT nextval('data60.counter') FROM generate_series(1, 41) OFFSET 40;
REFRESH MATERIALIZED VIEW data60.big_summary;
SELECT lo_from_bytea(60601, decode(repeat('0123456789abcdef', 200000), 'hex')) AS lo1,
       lo_from_bytea(60602, '') AS lo2;
SELECT string_agg(rel || ':' || n || ':' || checksum, ',' ORDER BY rel) AS src_sums FROM data60.sums() \gset
SELECT string_agg(rel || ':' || n || ':' || checksum, ',' ORDER BY rel) AS src_text_sums FROM data60.sums()
 WHERE rel IN ('builtin', 'usertypes', 'toasted', 'gen') \gset
SELECT rel, n FROM data60.sums();

\c contrib_regression
SET client_min_messages = warning;
\i sql_tests/data/60_data_schema.sql
RESET client_min_messages;

-- bad arguments
SELECT * FROM tsmigrate.pull_data(:'src', 0);
SELECT * FROM tsmigrate.pull_data(:'src', 65);
SELECT * FROM tsmigrate.pull_data(:'src', tables => '{data60.no_such}');
SELECT * FROM tsmigrate.pull_data(:'src', tables => '{public.source_conninfo}');
-- a table of the target that the source lacks
CREATE TABLE data60.target_only (a int);
SELECT * FROM tsmigrate.pull_data(:'src', tables => '{data60.target_only}');
DROP TABLE data60.target_only;
-- a source table missing on the target, and tables that are not empty
ALTER TABLE data60.scratch RENAME TO scratch_renamed;
SELECT * FROM tsmigrate.pull_data(:'src');
ALTER TABLE data60.scratch_renamed RENAME TO scratch;
INSERT INTO data60.big VALUES (0, 'in the way');
INSERT INTO data60.animal VALUES ('in the way');
SELECT * FROM tsmigrate.pull_data(:'src');
TRUNCATE data60.big, data60.animal;

-- everything, one job (binary COPY for built-in types, text for the rest)
SELECT relation, rows, bytes > 0 AS has_bytes, seconds >= 0 AS timed
  FROM tsmigrate.pull_data(:'src') ORDER BY relation;
SELECT rel, n, string_agg(rel || ':' || n || ':' || checksum, ',') OVER (ORDER BY rel ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) = :'src_sums' AS all_same
  FROM data60.sums();
-- generated columns computed here, identity values kept
SELECT * FROM data60.gen ORDER BY id;
SELECT last_value, is_called FROM data60.counter;
SELECT last_value, is_called FROM data60.unused;
SELECT last_value, is_called FROM data60.gen_id_seq;
SELECT n, s FROM data60.big_summary;
SELECT length(lo_get(60601)) AS lo1_bytes, length(lo_get(60602)) AS lo2_bytes;
SELECT * FROM tsmigrate.copy_progress;

-- text format throughout
CREATE FUNCTION pg_temp.empty_data60() RETURNS void LANGUAGE plpgsql AS $f$
DECLARE r record;
BEGIN
    FOR r IN SELECT c.oid::regclass AS reg FROM pg_class c JOIN pg_namespace ns ON ns.oid = c.relnamespace
              WHERE ns.nspname = 'data60' AND c.relkind IN ('r', 'p')
    LOOP
        EXECUTE format('TRUNCATE %s', r.reg);
    END LOOP;
END $f$;
SELECT pg_temp.empty_data60();
SET tsmigrate.copy_binary = off;
-- the caller's DateStyle and TimeZone do not change how text is read back
SET DateStyle = 'SQL, DMY';
SET TimeZone = 'Pacific/Chatham';
SELECT count(*) AS relations FROM tsmigrate.pull_data(:'src', tables => '{data60.builtin,data60.usertypes,data60.toasted,data60.gen}');
RESET tsmigrate.copy_binary;
RESET DateStyle;
RESET TimeZone;
SELECT string_agg(rel || ':' || n || ':' || checksum, ',' ORDER BY rel) = :'src_text_sums' AS text_same
  FROM data60.sums() WHERE rel IN ('builtin', 'usertypes', 'toasted', 'gen');
SELECT rel, n FROM data60.sums() WHERE rel IN ('builtin', 'usertypes', 'toasted', 'gen');

-- several jobs, "big" split into block ranges; the large objects the first
-- copy made go too (pull_data writes into no large object it did not create)
SELECT pg_temp.empty_data60();
SELECT lo_unlink(60601), lo_unlink(60602);
SET tsmigrate.copy_split_size = '64kB';
SELECT relation, rows FROM tsmigrate.pull_data(:'src', jobs => 3) WHERE rows IS NOT NULL ORDER BY relation;
RESET tsmigrate.copy_split_size;
SELECT string_agg(rel || ':' || n || ':' || checksum, ',' ORDER BY rel) = :'src_sums' AS parallel_same
  FROM data60.sums();
SELECT pg_temp.empty_data60();

-- a partitioned table stands for its partitions
SELECT relation, rows FROM tsmigrate.pull_data(:'src', 2, '{data60.meas}') ORDER BY relation;

-- jobs above tsmigrate.max_jobs
SET tsmigrate.max_jobs = 2;
SELECT * FROM tsmigrate.pull_data(:'src', 3);
RESET tsmigrate.max_jobs;

-- clean up
SET client_min_messages = warning;
DROP SCHEMA data60 CASCADE;
RESET client_min_messages;
SELECT lo_unlink(60601), lo_unlink(60602);
DROP DATABASE tsm_data60;
