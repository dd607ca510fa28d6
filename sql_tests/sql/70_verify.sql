-- verify compares what the source has with what the target has.
-- Build a small source by hand, and a target that differs from it.
SELECT source_conninfo() AS src \gset
\c tsm_source
CREATE SCHEMA "Sales Dept";
CREATE TABLE "Sales Dept".orders (id int PRIMARY KEY, placed timestamptz, amount numeric,
                                  note text, price float8);
INSERT INTO "Sales Dept".orders
SELECT g, '2024-01-01 00:00+00'::timestamptz + g * interval '1 hour', g * 1.5,
       CASE WHEN g % 3 = 0 THEN NULL ELSE E'line\ttab\\back ' || g END, g / 7.0
  FROM generate_series(1, 500) g;
CREATE SEQUENCE "Sales Dept".order_no;
SELECT setval('"Sales Dept".order_no', 42);
CREATE VIEW "Sales Dept".big_orders AS SELECT * FROM "Sales Dept".orders WHERE amount > 100;
\c contrib_regression

-- The regression helpers source_conninfo() and source_uri() exist only on
-- the target: leave the function checks out of what follows.
CREATE FUNCTION verify_report(src text, checksums boolean DEFAULT false)
RETURNS TABLE (kind text, object text, source_value text, target_value text, ok boolean)
LANGUAGE sql AS $$
    SELECT * FROM tsmigrate.verify(src, checksums)
     WHERE kind <> 'function' AND object <> 'function'
$$;

-- An empty target: every difference is reported.
SELECT kind, object, source_value, target_value, ok
  FROM verify_report(:'src') WHERE NOT ok ORDER BY kind, object;

-- The same objects and rows, rendered in another time zone and DateStyle on
-- the target: everything matches, checksums included.
CREATE SCHEMA "Sales Dept";
CREATE TABLE "Sales Dept".orders (id int PRIMARY KEY, placed timestamptz, amount numeric,
                                  note text, price float8);
INSERT INTO "Sales Dept".orders
SELECT g, '2024-01-01 00:00+00'::timestamptz + g * interval '1 hour', g * 1.5,
       CASE WHEN g % 3 = 0 THEN NULL ELSE E'line\ttab\\back ' || g END, g / 7.0
  FROM generate_series(1, 500) g;
CREATE SEQUENCE "Sales Dept".order_no;
SELECT setval('"Sales Dept".order_no', 42);
CREATE VIEW "Sales Dept".big_orders AS SELECT * FROM "Sales Dept".orders WHERE amount > 100;
SET TimeZone = 'Asia/Kolkata';
SET DateStyle = 'German';
SELECT count(*) AS checks, bool_and(ok) AS all_ok FROM verify_report(:'src', checksums => true);
SELECT kind, object, source_value, target_value FROM verify_report(:'src', true)
 WHERE kind IN ('rows', 'checksum', 'sequence') ORDER BY kind;
-- the caller's settings are left as they were
SHOW DateStyle;

-- One changed value, one NULL turned into an empty string, a sequence behind:
-- each is caught.
UPDATE "Sales Dept".orders SET amount = amount + 0.01 WHERE id = 7;
UPDATE "Sales Dept".orders SET note = '' WHERE id = 3;
SELECT setval('"Sales Dept".order_no', 41);
SELECT kind, object, ok FROM verify_report(:'src', true) WHERE NOT ok ORDER BY kind;
-- without checksums only the counts are compared
SELECT kind, object, ok FROM verify_report(:'src') WHERE NOT ok ORDER BY kind;
RESET TimeZone;
RESET DateStyle;

DROP SCHEMA "Sales Dept" CASCADE;
\c tsm_source
DROP SCHEMA "Sales Dept" CASCADE;
\c contrib_regression
DROP FUNCTION verify_report(text, boolean);
