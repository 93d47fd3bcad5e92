"""DDL for the store, derived from model.FIELDS so that the post table has one definition."""

from __future__ import annotations

from ..model import FIELDS

SCHEMA_VERSION = "1"

# Columns that identify a post and never change on update.
KEY = ("platform", "post_id")
# Columns the store itself maintains; a newer copy of a post does not overwrite them blindly.
MERGED = ("collected",)


def posts_ddl() -> str:
    columns = ",\n  ".join(f"{f.name} {f.sql}" for f in FIELDS)
    return f"CREATE TABLE IF NOT EXISTS posts (\n  {columns},\n  PRIMARY KEY (platform, post_id)\n)"


SUPPORT_DDL = (
    """CREATE TABLE IF NOT EXISTS tombstones (
  platform VARCHAR NOT NULL,
  target_id VARCHAR NOT NULL,
  is_author BOOLEAN NOT NULL,
  deleted_at TIMESTAMP,
  reason VARCHAR,
  source_file VARCHAR,
  recorded_at TIMESTAMP,
  PRIMARY KEY (platform, target_id, is_author)
)""",
    """CREATE TABLE IF NOT EXISTS quarantine (
  source_file VARCHAR NOT NULL,
  source_line BIGINT NOT NULL,
  source_format VARCHAR,
  reason VARCHAR NOT NULL,
  raw BLOB,
  recorded_at TIMESTAMP,
  PRIMARY KEY (source_file, source_line)
)""",
    """CREATE TABLE IF NOT EXISTS files (
  path VARCHAR PRIMARY KEY,
  fingerprint VARCHAR,
  source_format VARCHAR,
  status VARCHAR,
  records BIGINT,
  posts BIGINT,
  run_id BIGINT,
  finished_at TIMESTAMP
)""",
    """CREATE TABLE IF NOT EXISTS runs (
  run_id BIGINT PRIMARY KEY,
  started_at TIMESTAMP,
  finished_at TIMESTAMP,
  status VARCHAR,
  summary JSON
)""",
    # Which named collection (ingest --collection) saw each collected post: capture-recapture.
    """CREATE TABLE IF NOT EXISTS collection_posts (
  collection VARCHAR NOT NULL,
  platform VARCHAR NOT NULL,
  post_id VARCHAR NOT NULL,
  PRIMARY KEY (collection, platform, post_id)
)""",
    # Stream limit notices: cumulative undelivered counts, per file (connection) in line order.
    """CREATE TABLE IF NOT EXISTS limit_notices (
  source_file VARCHAR NOT NULL,
  source_line BIGINT NOT NULL,
  collection VARCHAR,
  platform VARCHAR,
  track BIGINT NOT NULL,
  noticed_at TIMESTAMP,
  PRIMARY KEY (source_file, source_line)
)""",
    """CREATE TABLE IF NOT EXISTS meta (
  key VARCHAR PRIMARY KEY,
  value VARCHAR
)""",
)
