-- bench/dataset.sql: a deterministic time-series database (the bench's and
-- the demo's sample data).
--
--   psql -v scale=1 -f bench/dataset.sql      -- about 1.7 GB: 10M metrics rows
--   psql -v scale=0.02 -f bench/dataset.sql   -- a demo in seconds
--
-- sites 100, devices 10k (jsonb attributes), metrics 10M * scale rows with
-- PRIMARY KEY (device_id, time) and an index on time, events 1M * scale rows
-- (identity, jsonb payload, foreign key to devices).  With -v hypertables=1
-- and TimescaleDB installed, metrics becomes a hypertable with 1-day chunks.

\set ON_ERROR_STOP on
\if :{?scale}
\else
\set scale 1
\endif
\if :{?hypertables}
\else
\set hypertables 0
\endif

SELECT setseed(0.42);

CREATE TABLE sites (
    id      int PRIMARY KEY,
    name    text NOT NULL,
    region  text NOT NULL
);

CREATE TABLE devices (
    id      int PRIMARY KEY,
    site_id int NOT NULL REFERENCES sites,
    model   text NOT NULL,
    attrs   jsonb NOT NULL DEFAULT '{}'
);

CREATE TABLE metrics (
    device_id   int NOT NULL,
    time        timestamptz NOT NULL,
    cpu         double precision,
    mem         double precision,
    temp        numeric(5,2),
    PRIMARY KEY (device_id, time)
);
CREATE INDEX metrics_time_idx ON metrics (time DESC);

CREATE TABLE events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    device_id   int NOT NULL REFERENCES devices,
    time        timestamptz NOT NULL,
    kind        text NOT NULL,
    payload     jsonb
);

\if :hypertables
SELECT create_hypertable('metrics', 'time', chunk_time_interval => interval '1 day');
\endif

INSERT INTO sites
SELECT s, 'site ' || s, (ARRAY['eu-west', 'eu-central', 'us-east', 'us-west', 'ap-south'])[1 + s % 5]
  FROM generate_series(1, 100) s;

INSERT INTO devices
SELECT d, 1 + d % 100, 'model-' || (d % 17),
       jsonb_build_object('firmware', '1.' || (d % 9) || '.' || (d % 4),
                          'rack', d % 40, 'tags', jsonb_build_array('t' || d % 3, 't' || d % 5))
  FROM generate_series(1, 10000) d;

-- 1000 devices report every 3 minutes for 30 days: 14400 points each at
-- scale 1 (10M rows would be 10000 points; 1000 x 10000 = 10M)
INSERT INTO metrics
SELECT d, timestamptz '2024-01-01 00:00+00' + p * interval '259.2 seconds',
       round((random() * 100)::numeric, 3)::float8,
       round((random() * 64)::numeric, 3)::float8,
       round((20 + random() * 40)::numeric, 2)
  FROM generate_series(1, 1000) d,
       generate_series(0, greatest(1, (10000 * :scale)::int) - 1) p;

INSERT INTO events (device_id, time, kind, payload)
SELECT (1 + (e::bigint * 7919) % 10000)::int,
       timestamptz '2024-01-01 00:00+00' + e * interval '2.592 seconds' / :scale,
       (ARRAY['boot', 'alert', 'config', 'heartbeat'])[1 + e % 4],
       CASE WHEN e % 10 = 0 THEN NULL
            ELSE jsonb_build_object('seq', e, 'level', e % 7, 'msg', 'event ' || e) END
  FROM generate_series(1, greatest(1, (1000000 * :scale)::int)) e;

ANALYZE;
