"""The linkage job on Apache Spark (ADR 0050): `linkage_run` with the Spark engine, in local
mode, end to end, against DuckDB on the same synthetic people, and what Spark leaves on disk.

The model is trained once on DuckDB (training on Spark gives the same model but takes longer
than this suite should: ADR 0050 has the measurement) and scored by both engines. Spark needs
Java 17: without it the test fails, saying what to install; it is never skipped (`make test`
runs it, and README's "What you need" names Java for that reason).
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from opennrm.accounts.models import Organisation, User
from opennrm.audit.models import AuditEvent
from opennrm.linkage import engine, prepare, spark_engine, synthetic
from opennrm.linkage.models import CandidatePair, LinkageRun
from opennrm.linkage.selectors import linkage_records
from opennrm.linkage.services import linkage_model_store, linkage_run

from .test_linkage_run import _cases_of, _identifying_strings, _plaintext_in, written_files

__all__ = ["written_files"]  # the fixture, shared with the DuckDB test of the same promise


SETTINGS = (
    "spark.master",
    "spark.local.dir",
    "spark.io.encryption.enabled",
    "spark.ui.enabled",
    "spark.eventLog.enabled",
    "spark.sql.catalogImplementation",
    "spark.sql.warehouse.dir",
    "spark.jars.packages",
)

INSTALL_JAVA = (
    " Install Java 17 (README, What you need): on Debian or Ubuntu, "
    "`sudo apt-get install openjdk-17-jre-headless`; elsewhere any Java 17 runtime, with `java` "
    "on the PATH or JAVA_HOME set."
)


@pytest.fixture(scope="module")
def duckdb_model() -> dict:
    """A model trained on DuckDB on 300 synthetic people, 60 of them referred twice (not the
    people the test refers)."""
    truth = synthetic.people(300, duplicates=60, seed=99)
    return engine.train([prepare.prepare(record) for record in truth.records])


@pytest.mark.spark
def test_spark_finds_the_pairs_duckdb_finds_with_the_same_weights_and_writes_no_plaintext(
    duckdb_model: dict,
    alice: User,
    northmoor_police: Organisation,
    oscar: User,
    southvale_police: Organisation,
    authority: Organisation,
    written_files: dict,
    monkeypatch: pytest.MonkeyPatch,
    settings: object,
) -> None:
    truth = synthetic.people(120, duplicates=25, seed=20)
    _cases_of(
        truth,
        referrers=[(alice, northmoor_police), (oscar, southvale_police)],
        authority=authority,
    )
    model = linkage_model_store(splink_settings=duckdb_model, trained_on_records=360)
    # Spark's private folder is removed when its session stops: read what is in it just before.
    left: dict[str, list[Path]] = {}
    seen: dict[str, list[tuple[str, bytes]]] = {}
    conf: dict[str, str | None] = {}
    levels: list[tuple[bool, bool]] = []
    needles = [s.encode("utf-8") for s in _identifying_strings(truth)]
    # Spark's own files are encrypted, so random bytes to a scan, in which a four-letter name
    # turns up by chance (about one run in fifty: "vann" in a shuffle block). A record Spark
    # wrote in clear would hold its names whole: its files are scanned for every string of six
    # characters or more (long names, whole names, dates of birth), which random bytes match
    # about once in 10**13 places.
    whole_names = {f"{r.given_names} {r.family_name}".strip() for r in truth.records}
    long_needles = [n for n in needles if len(n) >= 6] + [
        name.encode("utf-8") for name in whole_names
    ]
    close = spark_engine._Session.close

    def close_after_scanning(session: spark_engine._Session) -> None:
        files = [p for p in session.folder.rglob("*") if p.is_file()]
        left[str(session.folder)] = files
        seen[str(session.folder)] = _plaintext_in(files, long_needles)
        running = session.spark.sparkContext.getConf()
        conf.update({key: running.get(key) for key in SETTINGS})
        cached = session.spark.sparkContext._jsc.getPersistentRDDs().values()
        levels.extend(
            (rdd.getStorageLevel().useMemory(), rdd.getStorageLevel().useDisk()) for rdd in cached
        )
        close(session)

    monkeypatch.setattr(spark_engine._Session, "close", close_after_scanning)
    settings.LINKAGE_ENGINE = "spark"
    settings.LINKAGE_SPARK_MASTER = "local[1]"

    written_files["watching"]["on"] = True
    try:
        run = linkage_run(by=None)
    except spark_engine.SparkUnavailable as problem:
        # Java is what a fresh machine lacks (PySpark comes with the project's dependencies).
        pytest.fail(f"{problem}{INSTALL_JAVA if 'Java' in str(problem) else ''}", pytrace=False)
    written_files["watching"]["on"] = False

    # The run was Spark's, and says so.
    assert (run.engine, run.model, run.trained) == ("spark", model, False)
    event = AuditEvent.objects.get(action="linkage.run")
    assert event.detail["engine"] == "spark"

    # DuckDB, on the same records with the same model: the same pairs compared, the same pairs
    # above the threshold, with the same weights and levels field by field.
    records = [prepare.prepare(raw) for raw in linkage_records()]
    duck = engine.score(records, model.splink_settings, model.threshold_match_probability)
    assert run.candidate_pairs == duck.candidate_pairs > 40
    stored = {(p.case_a_id, p.case_b_id): p for p in CandidatePair.objects.filter(run=run)}
    assert set(stored) == {(p.first, p.second) for p in duck.pairs}
    assert len(stored) == run.pairs_above_threshold > 10
    for pair in duck.pairs:
        spark_pair = stored[(pair.first, pair.second)]
        assert spark_pair.match_weight == pytest.approx(pair.match_weight, abs=1e-9)
        assert spark_pair.match_probability == pytest.approx(pair.match_probability, abs=1e-9)
        assert [(c["comparison"], c["gamma"], c["label"]) for c in spark_pair.comparisons] == [
            (c["comparison"], c["gamma"], c["label"]) for c in pair.comparisons
        ]
        assert [c["match_weight"] for c in spark_pair.comparisons] == pytest.approx(
            [c["match_weight"] for c in pair.comparisons], abs=1e-9
        )

    # Spark ran as configured: its local files in the private folder and encrypted; no web
    # interface, no event log, no Hive metastore; the similarity functions from splink's jar.
    ((folder, files),) = left.items()
    assert conf == {
        "spark.master": "local[1]",
        "spark.local.dir": f"{folder}/local",
        "spark.io.encryption.enabled": "true",
        "spark.ui.enabled": "false",
        "spark.eventLog.enabled": "false",
        "spark.sql.catalogImplementation": "in-memory",
        "spark.sql.warehouse.dir": f"file:{folder}/warehouse",
        "spark.jars.packages": None,
    }
    assert Path(folder).name.startswith("opennrm-spark-")
    # splink's intermediate tables were kept in memory, none of them on disk.
    assert levels
    assert set(levels) == {(True, False)}

    # Spark wrote its files (shuffles, blocks) in its private folder only, encrypted: not one
    # synthetic name or date of birth in them; and the folder went with the session.
    assert len(left) == 1
    assert files, "Spark wrote nothing locally: the scan would prove nothing"
    assert seen[folder] == []
    assert not Path(folder).exists()
    # Nor anywhere else: the temporary folder (the JVM's too), the working folder, the home.
    # (Spark's AES library, commons-crypto, unpacks its native code into the JVM's temporary
    # folder: a copy of a library from its jar, where a four-letter name turns up by chance.)
    places = written_files["places"].values()
    written = [p for place in places for p in place.rglob("*")]
    libraries = [p for p in written if p.name.endswith("libcommons-crypto.so")]
    assert len(libraries) <= 1
    assert _plaintext_in([p for p in written if p not in libraries], needles) == []
    # Python itself opened no file for writing but PySpark's hand-shake with the JVM it starts:
    # an empty file reserved in a folder of its own (the JVM writes its port and a secret
    # there), removed at once, and the descriptors of the pipes to the JVM.
    # Python's import system caching PySpark's compiled modules (`__pycache__/*.pyc`, written on
    # a first import where bytecode writing is on, as the make targets turn it on) writes code,
    # never data.
    opened = [
        p
        for p in written_files["opened"]
        if not ("/__pycache__/" in p and Path(p).name.split(".pyc")[0] != Path(p).name)
    ]
    handshake = [p for p in opened if not p.isdigit() and not Path(p).parent.exists()]
    assert len(handshake) <= 1
    assert [p for p in opened if not p.isdigit() and p not in handshake] == []
    # The scan would have seen a name: one planted in a Spark file's place is found.
    planted = written_files["places"]["tmp"] / "planted.data"
    planted.write_bytes(b"\x00\x01" + needles[0].upper() + b"\x02")
    assert (str(planted), needles[0]) in _plaintext_in([planted], needles)


def test_the_command_runs_on_the_engine_it_is_given_over_the_configured_one(
    duckdb_model: dict,
    alice: User,
    northmoor_police: Organisation,
    oscar: User,
    southvale_police: Organisation,
    authority: Organisation,
    settings: object,
) -> None:
    _cases_of(
        synthetic.people(60, duplicates=10, seed=21),
        referrers=[(alice, northmoor_police), (oscar, southvale_police)],
        authority=authority,
    )
    linkage_model_store(splink_settings=duckdb_model, trained_on_records=360)
    settings.LINKAGE_ENGINE = "spark"

    call_command("link_records", "--engine", "duckdb", stdout=io.StringIO())

    run = LinkageRun.objects.get()
    assert run.engine == "duckdb"
    assert AuditEvent.objects.get(action="linkage.run").detail["engine"] == "duckdb"
    with pytest.raises(CommandError, match="invalid choice"):
        call_command("link_records", "--engine", "sqlite")


def test_a_stored_model_is_translated_to_spark_sql_and_back_unchanged(
    duckdb_model: dict,
) -> None:
    spark = spark_engine.to_spark(duckdb_model)

    assert spark["sql_dialect"] == "spark"
    conditions = [
        level["sql_condition"]
        for comparison in spark["comparisons"]
        for level in comparison["comparison_levels"]
    ]
    text = " ".join(conditions)
    # DuckDB's functions by Spark's names (the similarity ones from splink's jar), and
    # identifiers in back-ticks: in Spark, "given_name_l" would be a string.
    assert "JARO_WINKLER(`given_name_l`, `given_name_r`) >= 0.92" in text
    assert "DAMERAU_LEVENSHTEIN(`dob_l`, `dob_r`) <= 1" in text
    assert "SIZE(ARRAY_INTERSECT(`nationalities_l`, `nationalities_r`)) >= 1" in text
    assert '"' not in text
    assert "JARO_WINKLER(given_name_l, family_name_r) >= 0.92" in text  # a custom level
    assert "similarity" not in text.lower()
    # The parameters are untouched, and the way back gives the stored model itself.
    assert spark_engine.from_spark(spark, duckdb_model) == duckdb_model


def test_a_function_spark_does_not_know_is_refused_not_passed_on() -> None:
    model = {
        "sql_dialect": "duckdb",
        "comparisons": [{"comparison_levels": [{"sql_condition": "hamming(a_l, a_r) <= 2"}]}],
    }
    with pytest.raises(spark_engine.UnsupportedSql, match="hamming"):
        spark_engine.to_spark(model)


def test_the_engine_is_chosen_by_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    import django.core.exceptions

    import opennrm.settings as project_settings

    monkeypatch.setenv("OPENNRM_LINKAGE_ENGINE", "Spark")
    assert importlib.reload(project_settings).LINKAGE_ENGINE == "spark"
    monkeypatch.setenv("OPENNRM_LINKAGE_ENGINE", "postgres")
    with pytest.raises(django.core.exceptions.ImproperlyConfigured, match="duckdb or spark"):
        importlib.reload(project_settings)
    monkeypatch.delenv("OPENNRM_LINKAGE_ENGINE")
    assert importlib.reload(project_settings).LINKAGE_ENGINE == "duckdb"


def test_a_model_with_the_national_rules_translates_to_sparks_sql(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The national rules for a misspelt name use `levenshtein` (ADR 0059), which Spark SQL has
    built in: a run on Spark at national scale (what Spark is for) stopped with "No Spark
    equivalent known for levenshtein()". Found in review of stop 42."""
    records = [prepare.prepare(r) for r in synthetic.people(300, duplicates=60, seed=99).records]
    model = engine.train(records)
    monkeypatch.setattr(engine, "NATIONAL_SCALE_RECORDS", 2)

    spark = spark_engine.to_spark(engine._blocked_for(model, records))

    rules = [rule["blocking_rule"] for rule in spark["blocking_rules_to_generate_predictions"]]
    assert any("LEVENSHTEIN(l.given_key, r.given_key) <= 2" in rule for rule in rules)


@pytest.mark.spark
def test_spark_finds_the_pairs_duckdb_finds_with_the_national_rules(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same records and model at national scale on both engines: the same pairs, the same
    count of pairs compared (the misspelt-name rules included, ADR 0059)."""
    records = [prepare.prepare(r) for r in synthetic.people(300, duplicates=60, seed=99).records]
    model = engine.train(records)
    monkeypatch.setattr(engine, "NATIONAL_SCALE_RECORDS", 2)
    duck = engine.score(records, model, threshold=0.0)
    assert duck.candidate_pairs > 0

    spark = engine.score(
        records, model, threshold=0.0, engine=engine.SPARK, spark_master="local[1]"
    )

    assert spark.candidate_pairs == duck.candidate_pairs
    assert {(p.first, p.second) for p in spark.pairs} == {(p.first, p.second) for p in duck.pairs}
