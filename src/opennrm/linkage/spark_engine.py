"""The linkage model on Apache Spark: the same comparisons, blocking rules, training and scoring
as `engine`, on splink's `SparkAPI`, for data beyond one machine (a federation of deployments,
a multi-country dataset). Selected by configuration (`OPENNRM_LINKAGE_ENGINE=spark`; ADR 0050).
No Django here: `linkage.services` passes the engine's name and the master's address.

What keeps "no plaintext on disk" (ADR 0048) true on Spark, where DuckDB could simply be told
never to write:

- Every session has a **private folder** (`mkdtemp`, mode 0700) for everything Spark writes
  locally: `spark.local.dir` (shuffle files, spills, cached blocks that do not fit in memory,
  the files PySpark hands to the JVM) and the SQL warehouse. It is removed when the session
  stops, whatever happened.
- **Local disk I/O is encrypted** (`spark.io.encryption.enabled`): shuffle and spill files and
  blocks on disk are written with AES under a key generated for the application and held in
  memory only. With it on, PySpark sends the records to the JVM through an authenticated socket
  instead of a temporary file.
- **Nothing else is written**: no web UI (`spark.ui.enabled` off), no event log, an in-memory
  catalogue (`spark.sql.catalogImplementation=in-memory`: no Hive metastore, no Derby files),
  and splink's intermediate tables are persisted in memory only (`persist(MEMORY_ONLY)`:
  splink's default would write each one as Parquet to a checkpoint folder; a block that does
  not fit is recomputed, not spilled).
- **Nothing is fetched**: the similarity functions splink's Spark SQL needs (Jaro-Winkler,
  Damerau-Levenshtein) come from the jar inside the splink package (`spark.jars`, a local file);
  no `spark.jars.packages`, so Ivy never runs.

The stored model is always splink's DuckDB form (the form `engine.level_weights` and the check
at submission read). Its SQL is translated to Spark's for a Spark run (`to_spark`), and a model
trained on Spark is stored with the DuckDB SQL it was translated from (`from_spark`), so either
engine scores any stored version.
"""

from __future__ import annotations

import copy
import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlglot
from sqlglot import exp

logger = logging.getLogger(__name__)

DEFAULT_MASTER = "local[2]"
# Partitions of a shuffle: Spark's default (200) is for clusters; each is a task and, on disk,
# a file. Twice the local cores is plenty for one machine; a cluster's operator sets more.
LOCAL_SHUFFLE_PARTITIONS = 4


# The table `engine` registers the prepared records as.
RECORDS_TABLE = "records"


class SparkUnavailable(RuntimeError):
    """Spark cannot start here: PySpark is not installed, or Java is missing."""


class UnsupportedSql(ValueError):
    """A model's SQL uses a DuckDB function with no known Spark equivalent."""


# DuckDB functions in the model's SQL (as sqlglot names them, lower case) and what Spark calls
# them: None keeps the name (sqlglot writes Spark's spelling). The similarity functions are the
# splink jar's user-defined functions. Anything else fails loudly rather than meaning something
# else on Spark.
_FUNCTIONS: dict[str, str | None] = {
    "jarowinkler_similarity": "jaro_winkler",
    "jaro_winkler_similarity": "jaro_winkler",
    "damerau_levenshtein": "damerau_levenshtein",
    # Built into Spark SQL (the national rules for a misspelt name, ADR 0059).
    "levenshtein": None,
    "list_intersect": "array_intersect",
    "array_size": None,
    "abs": None,
    # No name in common, a missing key taken as no agreement (`engine.NO_NAME_IN_COMMON_SQL`).
    "coalesce": None,
}


def _spark_sql(condition: str) -> str:
    """One DuckDB condition of the model as Spark SQL: quoted identifiers in back-ticks (in
    Spark, "x" is a string), functions renamed (`_FUNCTIONS`)."""
    if condition.strip().upper() == "ELSE":
        return condition
    tree = sqlglot.parse_one(condition, read="duckdb")

    def rename(node: exp.Expression) -> exp.Expression:
        if not isinstance(node, exp.Func) or isinstance(node, exp.Connector | exp.Binary):
            return node
        name = (node.name if isinstance(node, exp.Anonymous) else node.sql_name()).lower()
        if name not in _FUNCTIONS:
            raise UnsupportedSql(f"No Spark equivalent known for {name}() in {condition!r}")
        spark_name = _FUNCTIONS[name]
        if spark_name is None:
            return node
        return exp.Anonymous(this=spark_name, expressions=list(node.iter_expressions()))

    return tree.transform(rename).sql(dialect="spark")


def _map_sql(model: dict[str, Any], translate: Callable[[int, int, str], str]) -> dict[str, Any]:
    out = copy.deepcopy(model)
    for i, comparison in enumerate(out.get("comparisons", [])):
        for j, level in enumerate(comparison["comparison_levels"]):
            level["sql_condition"] = translate(i, j, level["sql_condition"])
    for k, rule in enumerate(out.get("blocking_rules_to_generate_predictions", [])):
        rule["blocking_rule"] = translate(-1, k, rule["blocking_rule"])
    return out


def to_spark(model: dict[str, Any]) -> dict[str, Any]:
    """A model (or settings) in splink's DuckDB form, with its SQL in Spark's."""
    if model.get("sql_dialect", "duckdb") != "duckdb":
        raise UnsupportedSql(f"A stored model is in DuckDB's SQL, not {model['sql_dialect']}")
    out = _map_sql(model, lambda _i, _j, sql: _spark_sql(sql))
    out["sql_dialect"] = "spark"
    for rule in out.get("blocking_rules_to_generate_predictions", []):
        rule["sql_dialect"] = "spark"
    return out


def from_spark(trained: dict[str, Any], duckdb_form: dict[str, Any]) -> dict[str, Any]:
    """A model trained on Spark (splink's JSON, Spark SQL) with the DuckDB SQL it was
    translated from (`duckdb_form`, the same comparisons and levels in the same order): the
    learnt parameters of the one, the SQL of the other."""
    comparisons = duckdb_form["comparisons"]
    rules = duckdb_form.get("blocking_rules_to_generate_predictions", [])

    def original(i: int, j: int, _sql: str) -> str:
        if i < 0:
            return str(rules[j]["blocking_rule"])
        return str(comparisons[i]["comparison_levels"][j]["sql_condition"])

    out = _map_sql(trained, original)
    out["sql_dialect"] = "duckdb"
    for rule in out.get("blocking_rules_to_generate_predictions", []):
        rule["sql_dialect"] = "duckdb"
    return out


def spark_conf(folder: Path, master: str) -> dict[str, str]:
    """Spark's settings for one private session whose local files all go under `folder`."""
    from splink.backends.spark import similarity_jar_location

    conf = {
        "spark.master": master,
        "spark.app.name": "opennrm-linkage",
        # Local files: shuffles, spills, blocks, PySpark's hand-over, all in the private
        # folder, and encrypted.
        "spark.local.dir": str(folder / "local"),
        "spark.io.encryption.enabled": "true",
        "spark.io.encryption.keySizeBits": "256",
        # Nothing else written, nothing served.
        "spark.ui.enabled": "false",
        "spark.eventLog.enabled": "false",
        "spark.sql.catalogImplementation": "in-memory",
        "spark.sql.warehouse.dir": str(folder / "warehouse"),
        "spark.sql.streaming.checkpointLocation": str(folder / "checkpoints"),
        "spark.cleaner.referenceTracking.cleanCheckpoints": "true",
        # The RPC between driver and executors authenticated and encrypted (a cluster; in
        # local mode it is this process's own JVM).
        "spark.authenticate": "true",
        "spark.network.crypto.enabled": "true",
        # splink's similarity functions from the jar in its package: a local file, no download.
        "spark.jars": similarity_jar_location(),
        "spark.jars.ivy": str(folder / "ivy"),
        "spark.sql.shuffle.partitions": str(LOCAL_SHUFFLE_PARTITIONS),
        "spark.default.parallelism": str(LOCAL_SHUFFLE_PARTITIONS),
        "spark.sql.session.timeZone": "UTC",
        # The JVM's own temporary files (it does not read TMPDIR) where Python's go.
        "spark.driver.extraJavaOptions": f"-Djava.io.tmpdir={tempfile.gettempdir()}",
    }
    if master.startswith("local"):
        # In local mode the driver is the executor: it listens on the loopback only (and does
        # not look this machine's name up).
        conf["spark.driver.host"] = "127.0.0.1"
        conf["spark.driver.bindAddress"] = "127.0.0.1"
    return conf


class _Session:
    """One Spark session in a private folder; `close` stops it and removes the folder."""

    def __init__(self, master: str) -> None:
        try:
            from pyspark.sql import SparkSession
        except ImportError as missing:
            raise SparkUnavailable(
                "The Spark engine needs PySpark: install the project's 'spark' dependency group "
                "(uv sync --group spark)."
            ) from missing
        if shutil.which("java") is None and not _java_home():
            raise SparkUnavailable(
                "The Spark engine needs Java 17 or later (java on the PATH, or JAVA_HOME)."
            )
        self.folder = Path(tempfile.mkdtemp(prefix="opennrm-spark-"))
        try:
            builder = SparkSession.builder
            for key, value in spark_conf(self.folder, master).items():
                builder = builder.config(key, value)
            self.spark = builder.getOrCreate()
            # Spark's own INFO and WARN lines carry no values, but are many.
            self.spark.sparkContext.setLogLevel("ERROR")
        except BaseException:
            shutil.rmtree(self.folder, ignore_errors=True)
            raise

    def close(self) -> None:
        try:
            self.spark.catalog.clearCache()
            self.spark.stop()
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


def _arrow_schema() -> Any:
    """`PreparedRecord`'s fields as Arrow types."""
    import dataclasses

    import pyarrow as pa

    from .prepare import PreparedRecord

    def arrow_type(annotation: str) -> Any:
        if annotation.startswith("list"):
            return pa.list_(pa.string())
        if annotation.startswith("int"):
            return pa.int64()
        if annotation.startswith("bool"):
            return pa.bool_()
        return pa.string()

    return pa.schema(
        [(f.name, arrow_type(str(f.type))) for f in dataclasses.fields(PreparedRecord)]
    )


def _java_home() -> bool:
    home = os.environ.get("JAVA_HOME", "")
    return bool(home) and (Path(home) / "bin" / "java").exists()


def db_api(master: str = DEFAULT_MASTER) -> tuple[Any, Callable[[], None]]:
    """splink's SparkAPI on a new private session, and the function that ends both."""
    from pyspark import StorageLevel
    from splink import SparkAPI

    class _InMemorySparkAPI(SparkAPI):
        """splink's SparkAPI with its intermediate tables persisted in memory only.

        splink breaks a long lineage by writing a table to Parquet in a checkpoint folder
        ("parquet", its default) or by `persist()`, which keeps blocks that do not fit on disk
        (MEMORY_AND_DISK). Here every table splink would persist is persisted MEMORY_ONLY.
        """

        def _table_registration(self, input: Any, table_name: str) -> None:
            # The records as an Arrow table with the prepared record's types, so that a column
            # with no value in any record (no phone anywhere) still has its type.
            if table_name == RECORDS_TABLE and isinstance(input, list):
                import pyarrow as pa

                input = pa.Table.from_pylist(input, schema=_arrow_schema())
            super()._table_registration(input, table_name)

        def _break_lineage_and_repartition(
            self, spark_df: Any, templated_name: str, physical_name: str
        ) -> Any:
            frame_class = type(spark_df)
            own = "persist" in vars(frame_class)
            persist = frame_class.persist

            def memory_only(frame: Any, *_args: Any) -> Any:
                return persist(frame, StorageLevel.MEMORY_ONLY)

            # splink calls `persist()` (no level) on the frame it is given or on a
            # repartition of it, both of this class: for this call, memory only.
            frame_class.persist = memory_only
            try:
                return super()._break_lineage_and_repartition(
                    spark_df, templated_name, physical_name
                )
            finally:
                if own:
                    frame_class.persist = persist
                else:
                    del frame_class.persist

    session = _Session(master)
    try:
        api = _InMemorySparkAPI(
            spark_session=session.spark,
            break_lineage_method="persist",
            num_partitions_on_repartition=LOCAL_SHUFFLE_PARTITIONS,
        )
    except BaseException:
        session.close()
        raise
    return api, session.close


def read_predictions(
    predictions: Any, threshold: float, columns: list[str]
) -> tuple[int, list[tuple[Any, ...]]]:
    """The number of scored pairs, and `columns` of those at or above `threshold`."""
    frame = predictions.as_spark_dataframe()
    count = int(frame.count())
    above = frame.filter(frame["match_probability"] >= float(threshold)).select(*columns)
    return count, [tuple(row) for row in above.collect()]
