"""Shared fixtures. Real data lives in ../shared/data beside the repo; tests that need it skip without it."""
from pathlib import Path
import pytest
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data folder {SHARED_DATA} is absent")
    return SHARED_DATA


AURORA = SHARED_DATA / "metoo-getoldtweets-aurora848"


@pytest.fixture(scope="session")
def aurora_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The whole GetOldTweets #metoo scrape (608,099 tweets) ingested once per session into a
    temporary DuckDB store; returns its path. Tests may add derived tables but must not
    change or remove posts. Skips where the real data is absent."""
    if not AURORA.is_dir():
        pytest.skip(f"real data folder {AURORA} is absent")
    from groundswell.ingest import IngestOptions, ingest
    from groundswell.store import Store

    db = tmp_path_factory.mktemp("aurora-store") / "aurora.duckdb"
    with Store(str(db)) as store:
        ingest([str(AURORA)], store, IngestOptions())
    return db


@pytest.fixture(scope="session")
def spark():
    """One local Spark session for every Spark test (small shuffles, no UI, modest memory).
    Skips, with the reason, where pyspark or Java 17+ is missing; `make test` installs both."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        pytest.skip("pyspark is not installed (pip install 'groundswell[spark]'; `make test` does)")
    from groundswell.engines.spark import MIN_JAVA, java_version, spark_session

    if (java_version() or 0) < MIN_JAVA:
        pytest.skip(f"Java {MIN_JAVA}+ is not installed (e.g. apt-get install openjdk-17-jre-headless)")
    settings = {"spark.sql.shuffle.partitions": "4", "spark.ui.enabled": "false", "spark.driver.memory": "1536m"}
    session, started = spark_session("local[2]", settings)
    yield session
    if started:
        session.stop()
