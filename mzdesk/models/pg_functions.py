"""The SQL functions SQLite has and PostgreSQL lacks (or has otherwise), created in the
database by ``mzdesk init`` (models/pg_schema.py) for the statements pg_sql translates."""

from __future__ import annotations

FUNCTIONS_SQL = r"""
CREATE OR REPLACE FUNCTION mz_substr(s text, start bigint, len bigint DEFAULT NULL)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE
    WHEN s IS NULL THEN NULL
    WHEN start < 0 AND len IS NULL THEN right(s, -start::int)
    WHEN start < 0 THEN substr(s, greatest(length(s) + start::int + 1, 1), len::int)
    WHEN len IS NULL THEN substr(s, greatest(start::int, 1))
    WHEN start = 0 THEN substr(s, 1, greatest(len::int - 1, 0))
    ELSE substr(s, start::int, len::int) END
$$;
CREATE OR REPLACE FUNCTION mz_substr(s bigint, start bigint, len bigint DEFAULT NULL)
RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT mz_substr(s::text, start, len) $$;
CREATE OR REPLACE FUNCTION mz_round(x double precision, n bigint DEFAULT 0)
RETURNS double precision LANGUAGE sql IMMUTABLE AS $$
  SELECT round(x::numeric, n::int)::double precision $$;
CREATE OR REPLACE FUNCTION mz_round(x numeric, n bigint DEFAULT 0)
RETURNS double precision LANGUAGE sql IMMUTABLE AS $$
  SELECT round(x, n::int)::double precision $$;
CREATE OR REPLACE FUNCTION mz_typeof(x anyelement) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN x IS NULL THEN 'null'
    WHEN pg_typeof(x) IN ('bigint'::regtype, 'integer'::regtype, 'smallint'::regtype)
      THEN 'integer'
    WHEN pg_typeof(x) IN ('double precision'::regtype, 'numeric'::regtype, 'real'::regtype)
      THEN 'real'
    WHEN pg_typeof(x) = 'bytea'::regtype THEN 'blob' ELSE 'text' END $$;
CREATE OR REPLACE FUNCTION mz_total_sf(s double precision, x double precision)
RETURNS double precision LANGUAGE sql IMMUTABLE AS $$ SELECT s + coalesce(x, 0) $$;
DROP AGGREGATE IF EXISTS mz_total(double precision);
CREATE AGGREGATE mz_total(double precision) (sfunc = mz_total_sf, stype = double precision,
  initcond = '0');
CREATE OR REPLACE FUNCTION mz_sum_bool_sf(s bigint, x boolean) RETURNS bigint
LANGUAGE sql IMMUTABLE AS $$ SELECT CASE WHEN x IS NULL THEN s
  ELSE coalesce(s, 0) + x::int END $$;
DROP AGGREGATE IF EXISTS sum(boolean);
CREATE AGGREGATE sum(boolean) (sfunc = mz_sum_bool_sf, stype = bigint);
CREATE OR REPLACE FUNCTION mz_glob(s text, pattern text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT s ~ ('^' || replace(replace(replace(regexp_replace(pattern,
    '([.+^$(){}|\\])', '\\\1', 'g'), '*', '.*'), '?', '.'), '\\.*', '\\*') || '$') $$;
DROP OPERATOR IF EXISTS ~# (text, text);
CREATE OPERATOR ~# (leftarg = text, rightarg = text, function = mz_glob);
CREATE OR REPLACE FUNCTION mz_not_glob(s text, pattern text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$ SELECT NOT mz_glob(s, pattern) $$;
DROP OPERATOR IF EXISTS !~# (text, text);
CREATE OPERATOR !~# (leftarg = text, rightarg = text, function = mz_not_glob);
CREATE OR REPLACE FUNCTION mz_json_extract(j text, path text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN path = '$' THEN j ELSE
    (j::jsonb) #>> string_to_array(regexp_replace(
      regexp_replace(substr(path, 3), '\[(\d+)\]', '.\1', 'g'), '^\.', ''), '.') END $$;
CREATE OR REPLACE FUNCTION mz_json_extract(j bytea, path text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$ SELECT mz_json_extract(convert_from(j, 'UTF8'), path) $$;
CREATE OR REPLACE FUNCTION mz_json_each(j text)
RETURNS TABLE (key text, value text, type text) LANGUAGE sql IMMUTABLE AS $$
  SELECT (a.ord - 1)::text,
    CASE WHEN json_typeof(a.v) IN ('object', 'array') THEN a.v::text
      WHEN json_typeof(a.v) = 'null' THEN NULL ELSE a.v #>> '{}' END,
    json_typeof(a.v)
  FROM json_array_elements(CASE WHEN json_typeof(j::json) = 'array' THEN j::json
    ELSE '[]'::json END) WITH ORDINALITY AS a (v, ord)
  UNION ALL
  SELECT o.key,
    CASE WHEN json_typeof(o.value) IN ('object', 'array') THEN o.value::text
      WHEN json_typeof(o.value) = 'null' THEN NULL ELSE o.value #>> '{}' END,
    json_typeof(o.value)
  FROM json_each(CASE WHEN json_typeof(j::json) = 'object' THEN j::json
    ELSE '{}'::json END) AS o $$;
CREATE OR REPLACE FUNCTION mz_json_each(j bytea)
RETURNS TABLE (key text, value text, type text) LANGUAGE sql IMMUTABLE AS $$
  SELECT * FROM mz_json_each(convert_from(j, 'UTF8')) $$;
CREATE OR REPLACE FUNCTION mz_json_text(j json) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT '{' || coalesce(string_agg(to_json(e.key)::text || ':' || e.value::text, ','
    ORDER BY e.ord), '') || '}'
  FROM json_each(j) WITH ORDINALITY AS e (key, value, ord) $$;
CREATE OR REPLACE FUNCTION mz_json_quote(x text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT to_json(x)::text $$;
CREATE OR REPLACE FUNCTION mz_json_quote(x bigint) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT x::text $$;
CREATE OR REPLACE FUNCTION mz_json_quote(x double precision) RETURNS text LANGUAGE sql
IMMUTABLE AS $$ SELECT to_json(x)::text $$;
CREATE OR REPLACE FUNCTION mz_json_valid(j text) RETURNS boolean LANGUAGE plpgsql
IMMUTABLE AS $$ BEGIN PERFORM j::json; RETURN true;
  EXCEPTION WHEN others THEN RETURN false; END $$;
CREATE OR REPLACE FUNCTION mz_json_array_length(j text) RETURNS bigint LANGUAGE sql
IMMUTABLE AS $$ SELECT json_array_length(j::json)::bigint $$;
CREATE OR REPLACE FUNCTION mz_json_patch(a text, b text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT coalesce((SELECT json_object_agg(key, value)::text FROM (
    SELECT key, value FROM json_each(coalesce(a, '{}')::json)
      WHERE key NOT IN (SELECT key FROM json_each(b::json))
    UNION ALL
    SELECT key, value FROM json_each(b::json) WHERE json_typeof(value) <> 'null') kv),
  '{}') $$;
CREATE OR REPLACE FUNCTION mz_time(t text, mods text[]) RETURNS timestamp
LANGUAGE plpgsql STABLE AS $$
DECLARE
  ts timestamp;
  m text;
  k text[];
BEGIN
  IF t IS NULL THEN RETURN NULL; END IF;
  IF lower(t) = 'now' THEN ts := (now() AT TIME ZONE 'UTC');
  ELSIF t ~ '^\d+(\.\d+)?$' AND length(t) < 9 THEN ts := timestamp '4714-11-24 12:00:00 BC'
      + (t::double precision * interval '1 day');
  ELSE
    BEGIN ts := t::timestamp;
    EXCEPTION WHEN others THEN RETURN NULL; END;
  END IF;
  FOREACH m IN ARRAY coalesce(mods, '{}') LOOP
    m := lower(trim(m));
    IF m = 'localtime' THEN
      ts := (ts AT TIME ZONE 'UTC') AT TIME ZONE current_setting('TimeZone');
    ELSIF m = 'utc' THEN
      ts := (ts AT TIME ZONE current_setting('TimeZone')) AT TIME ZONE 'UTC';
    ELSIF m = 'start of month' THEN ts := date_trunc('month', ts);
    ELSIF m = 'start of year' THEN ts := date_trunc('year', ts);
    ELSIF m = 'start of day' THEN ts := date_trunc('day', ts);
    ELSE
      k := regexp_match(m, '^([+-]?\d+(?:\.\d+)?)\s+(day|days|month|months|year|years|hour|hours|minute|minutes|second|seconds)$');
      IF k IS NULL THEN RETURN NULL; END IF;
      IF k[2] LIKE 'month%' OR k[2] LIKE 'year%' THEN
        -- SQLite: add to the month/year field, then normalise (Jan 31 + 1 month = Mar 3)
        ts := date_trunc('month', ts) + ((k[1]::int * CASE WHEN k[2] LIKE 'year%' THEN 12
          ELSE 1 END) || ' months')::interval + (ts - date_trunc('month', ts));
      ELSE
        ts := ts + (k[1] || ' ' || k[2])::interval;
      END IF;
    END IF;
  END LOOP;
  RETURN ts;
END $$;
CREATE OR REPLACE FUNCTION mz_strftime(f text, t text, VARIADIC mods text[] DEFAULT '{}')
RETURNS text LANGUAGE plpgsql STABLE AS $$
DECLARE ts timestamp := mz_time(t, mods); out text := ''; i int := 1; c text;
BEGIN
  IF ts IS NULL OR f IS NULL THEN RETURN NULL; END IF;
  WHILE i <= length(f) LOOP
    c := substr(f, i, 1);
    IF c = '%' AND i < length(f) THEN
      i := i + 1; c := substr(f, i, 1);
      out := out || CASE c
        WHEN 'Y' THEN to_char(ts, 'YYYY') WHEN 'm' THEN to_char(ts, 'MM')
        WHEN 'd' THEN to_char(ts, 'DD') WHEN 'H' THEN to_char(ts, 'HH24')
        WHEN 'M' THEN to_char(ts, 'MI') WHEN 'S' THEN to_char(ts, 'SS')
        WHEN 'j' THEN to_char(ts, 'DDD') WHEN 'w' THEN extract(dow FROM ts)::int::text
        WHEN 's' THEN extract(epoch FROM ts)::bigint::text
        WHEN 'f' THEN to_char(ts, 'SS.MS') WHEN '%' THEN '%' ELSE '%' || c END;
    ELSE out := out || c;
    END IF;
    i := i + 1;
  END LOOP;
  RETURN out;
END $$;
CREATE OR REPLACE FUNCTION mz_date(t text, VARIADIC mods text[] DEFAULT '{}')
RETURNS text LANGUAGE sql STABLE AS $$ SELECT to_char(mz_time(t, mods), 'YYYY-MM-DD') $$;
CREATE OR REPLACE FUNCTION mz_datetime(t text, VARIADIC mods text[] DEFAULT '{}')
RETURNS text LANGUAGE sql STABLE AS $$
  SELECT to_char(mz_time(t, mods), 'YYYY-MM-DD HH24:MI:SS') $$;
CREATE OR REPLACE FUNCTION mz_julianday(t text, VARIADIC mods text[] DEFAULT '{}')
RETURNS double precision LANGUAGE sql STABLE AS $$
  SELECT extract(epoch FROM mz_time(t, mods) - timestamp '4714-11-24 12:00:00 BC')::double
    precision / 86400 $$;
CREATE OR REPLACE FUNCTION mz_audit_seq() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- the audit trail: numbers without gaps, also after a rollback (a sequence would skip)
  NEW.seq := (SELECT coalesce(max(seq), 0) + 1 FROM audit_log);
  RETURN NEW;
END $$;
CREATE OR REPLACE FUNCTION mz_rowid() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE v bigint := (to_jsonb(NEW) ->> TG_ARGV[1])::bigint;
BEGIN
  IF v IS NULL AND TG_ARGV[0] = '' THEN
    -- the audit trail: numbers without gaps, also after a rollback (a sequence would skip)
    EXECUTE format('SELECT coalesce(max(%I), 0) + 1 FROM %I', TG_ARGV[1], TG_TABLE_NAME)
      INTO v;
    NEW := jsonb_populate_record(NEW, jsonb_build_object(TG_ARGV[1], v));
  ELSIF TG_ARGV[0] = '' THEN
    NULL;
  ELSIF v IS NULL THEN
    NEW := jsonb_populate_record(NEW, jsonb_build_object(TG_ARGV[1],
      nextval(TG_ARGV[0]::regclass)));
  ELSIF v > coalesce(pg_sequence_last_value(TG_ARGV[0]::regclass), 0) THEN
    PERFORM setval(TG_ARGV[0]::regclass, v);
  END IF;
  RETURN NEW;
END $$;
"""
