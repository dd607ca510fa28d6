-- schema_sql and pull_schema: the source is database tsm_schema50 of this
-- instance, the target the regression database.
SET client_min_messages = warning;
DROP DATABASE IF EXISTS tsm_schema50;
RESET client_min_messages;
CREATE DATABASE tsm_schema50;
SELECT source_conninfo('tsm_schema50') AS src \gset

\c tsm_schema50
CREATE SCHEMA s50;
COMMENT ON SCHEMA s50 IS 'schema of test 50: $$, \, ''';
CREATE TYPE s50.color AS ENUM ('red', 'green');
CREATE DOMAIN s50.percent AS numeric(5,2) CHECK (VALUE BETWEEN 0 AND 100);
CREATE FUNCTION s50.touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TABLE s50.parts (
    id serial PRIMARY KEY,
    code int GENERATED ALWAYS AS IDENTITY,
    color s50.color NOT NULL DEFAULT 'red',
    share s50.percent,
    twice int GENERATED ALWAYS AS (id * 2) STORED,
    CHECK (code > 0)
);
CREATE TABLE s50.uses (part_id int REFERENCES s50.parts ON DELETE CASCADE, at date NOT NULL)
    PARTITION BY RANGE (at);
CREATE TABLE s50.uses_2024 PARTITION OF s50.uses FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE INDEX uses_part ON s50.uses (part_id);
CREATE VIEW s50.red_parts AS SELECT id, share FROM s50.parts WHERE color = 'red';
CREATE MATERIALIZED VIEW s50.counts AS SELECT color, count(*) AS n FROM s50.parts GROUP BY color;
CREATE TRIGGER parts_touch BEFORE UPDATE ON s50.parts FOR EACH ROW EXECUTE FUNCTION s50.touch();
CREATE TABLE s50."x""; DROP TABLE s50.parts; --" ("$$" text DEFAULT E'\\');
COMMENT ON TABLE s50.parts IS 'parts';
\c contrib_regression

-- the statements, in the order in which they run (unaligned: they are long)
\pset format unaligned
\pset tuples_only on
SELECT * FROM tsmigrate.schema_sql(:'src', 'pre-data');
SELECT * FROM tsmigrate.schema_sql(:'src', 'post-data');
\pset format aligned
\pset tuples_only off

-- wrong sections
SELECT * FROM tsmigrate.schema_sql(:'src', 'data');
SELECT * FROM tsmigrate.pull_schema(:'src', NULL);

-- a dry run reports and creates nothing
SELECT * FROM tsmigrate.pull_schema(:'src', 'pre-data', dry_run => true);
SELECT count(*) FROM pg_namespace WHERE nspname = 's50';

-- the real thing
SELECT * FROM tsmigrate.pull_schema(:'src', 'pre-data');
SELECT * FROM tsmigrate.pull_schema(:'src', 'post-data');
\d s50.parts
\d+ s50.uses
SELECT obj_description('s50.parts'::regclass, 'pg_class');
INSERT INTO s50.parts (share) VALUES (12.5) RETURNING id, code, color, twice;
SELECT * FROM s50.red_parts;

-- once more: the first object that exists stops the section, nothing else runs
SELECT * FROM tsmigrate.pull_schema(:'src', 'pre-data');
SELECT * FROM tsmigrate.pull_schema(:'src', 'post-data');

-- skip_existing, with two jobs: every post-data object is there already
SELECT * FROM tsmigrate.pull_schema(:'src', 'post-data', jobs => 2, skip_existing => true);
-- jobs out of range
SELECT * FROM tsmigrate.pull_schema(:'src', 'post-data', jobs => 0);

-- leave nothing behind for the tests that follow
SET client_min_messages = warning;
DROP SCHEMA s50 CASCADE;
RESET client_min_messages;
COMMENT ON SCHEMA public IS 'standard public schema';
DROP DATABASE tsm_schema50;
