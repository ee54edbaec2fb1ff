"""Embeddings are stored as float16 blobs; stores written with FLOAT[] vectors still open."""

from pathlib import Path

import duckdb
import numpy as np
import pytest

import vocflow.store as store_module
from tests.store_targets import postgres_store_server, store_target  # noqa: F401
from vocflow.store import SCHEMA_VERSION, Store, blobs_to_vectors, vectors_to_blobs

# The embeddings table and meta row as version 1 of the store wrote them.
_V1_DDL = """
CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR);
INSERT INTO meta VALUES ('schema_version', '1');
CREATE TABLE embeddings (
    text_hash VARCHAR NOT NULL,
    model_id VARCHAR NOT NULL,
    vector FLOAT[] NOT NULL,
    PRIMARY KEY (text_hash, model_id)
);
"""


def _unit_rows(n: int, dim: int, seed: int = 0) -> np.ndarray:
    rows = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def _v1_store(path: Path, vectors: dict[str, tuple[str, np.ndarray]]) -> None:
    con = duckdb.connect(str(path))
    con.execute(_V1_DDL)
    for text_hash, (model_id, vector) in vectors.items():
        con.execute(
            "INSERT INTO embeddings VALUES (?, ?, ?)", [text_hash, model_id, vector.tolist()]
        )
    con.close()


def test_blobs_round_trip_unit_rows_within_1e_3_and_are_little_endian_float16() -> None:
    rows = _unit_rows(64, 384)
    blobs = vectors_to_blobs(rows)
    assert len(blobs) == 64 and {len(b) for b in blobs} == {384 * 2}
    assert blobs[0] == rows[0].astype("<f2").tobytes()
    back = blobs_to_vectors(blobs)
    assert back.dtype == np.float32 and back.shape == rows.shape
    assert np.abs(back - rows).max() < 1e-3
    np.testing.assert_allclose(np.linalg.norm(back, axis=1), 1.0, atol=1e-3)


def test_blobs_refuse_values_float16_cannot_hold_and_mixed_dimensions() -> None:
    with pytest.raises(ValueError, match="float16"):
        vectors_to_blobs(np.array([[1e6, 0.0]], dtype=np.float32))
    with pytest.raises(ValueError, match="float16"):
        vectors_to_blobs(np.array([[np.nan, 0.0]], dtype=np.float32))
    with pytest.raises(ValueError, match="dimension"):
        blobs_to_vectors([b"\x00\x00", b"\x00\x00\x00\x00"])


def test_store_keeps_float16_blobs_and_loads_float32_in_request_order(
    store_target: Path | str,  # noqa: F811 - the fixture imported above
) -> None:
    rows = _unit_rows(50, 32)
    hashes = [f"h{i}" for i in range(50)]
    with Store(store_target) as store:
        store.save_embeddings(hashes, "m", rows)
        store.save_embeddings(hashes[:5], "m", rows[:5] * 0)  # cached entries are kept
        sizes = store.con.execute("SELECT DISTINCT octet_length(vector) FROM embeddings")
        assert sizes.fetchall() == [(64,)]
        stored = store.con.execute("SELECT vector FROM embeddings WHERE text_hash = 'h3'")
        assert bytes(stored.fetchall()[0][0]) == rows[3].astype("<f2").tobytes()
        order = [7, 3, 7, 49, 0]
        got = store.load_embeddings([hashes[i] for i in order], "m")
        assert got.dtype == np.float32
        assert np.abs(got - rows[order]).max() < 1e-3
        with pytest.raises(KeyError, match="1 embeddings not cached"):
            store.load_embeddings(["h1", "nope"], "m")


def test_a_store_written_with_float_lists_is_migrated_in_place_on_open(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    a, b = _unit_rows(2, 16)
    c = _unit_rows(1, 8, seed=1)[0]
    _v1_store(path, {"a": ("m", a), "b": ("m", b), "c": ("small", c)})

    # Read-only: no migration possible, the FLOAT[] vectors are read as they are.
    with Store(path, read_only=True) as old:
        np.testing.assert_array_equal(old.load_embeddings(["b", "a"], "m"), np.stack([b, a]))

    with Store(path) as store:
        types = store.con.execute(
            "SELECT data_type FROM information_schema.columns "
            "WHERE table_name = 'embeddings' AND column_name = 'vector'"
        ).fetchall()
        assert types == [("BLOB",)]
        version = store.con.execute("SELECT value FROM meta WHERE key = 'schema_version'")
        assert version.fetchall() == [(str(SCHEMA_VERSION),)]
        assert np.abs(store.load_embeddings(["b", "a"], "m") - np.stack([b, a])).max() < 1e-3
        assert np.abs(store.load_embeddings(["c"], "small")[0] - c).max() < 1e-3
        assert store.missing_embeddings(["a", "c", "d"], "m") == ["c", "d"]
        store.save_embeddings(["d"], "m", a[None, :])
    with Store(path) as again:  # opening a migrated store changes nothing
        assert again.con.execute("SELECT count(*) FROM embeddings").fetchall() == [(4,)]


def test_a_failed_migration_leaves_the_old_table_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "old.duckdb"
    vector = _unit_rows(1, 4)[0]
    _v1_store(path, {"a": ("m", vector)})

    def broken(vectors: np.ndarray) -> list[bytes]:
        raise RuntimeError("disk full")

    monkeypatch.setattr(store_module, "vectors_to_blobs", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        Store(path)
    con = duckdb.connect(str(path), read_only=True)
    try:
        assert con.execute("SELECT vector FROM embeddings").fetchall()[0][0] == pytest.approx(
            vector.tolist()
        )
        assert "embeddings_f16" not in {r[0] for r in con.execute("SHOW TABLES").fetchall()}
    finally:
        con.close()
