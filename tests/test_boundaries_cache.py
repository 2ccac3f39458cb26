"""Prepared boundary sets on disk: a hit equals a fresh load, and nothing stale or damaged
is ever trusted (a changed source byte or a corrupt entry means a rebuild)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pandas as pd
import pytest
from shapely.geometry import box, mapping

from crisismap.boundaries import cache, load, load_boundaries, read_boundary_bytes

CAF = Path(__file__).resolve().parents[2] / "shared" / "data" / "boundaries" / "caf_codab"


@pytest.fixture
def builds(monkeypatch) -> list[str]:
    """The names of the sets assembled from source (a cache hit assembles nothing)."""
    seen: list[str] = []
    real = load.assemble

    def counting(name, *args, **kwargs):
        seen.append(name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(load, "assemble", counting)
    return seen


def _squares(path: Path, second_name: str = "Beta") -> Path:
    rows = [("UA01", "Alpha", box(30, 50, 31, 51)), ("UA02", second_name, box(31, 50, 32, 51))]
    features = [
        {
            "type": "Feature",
            "properties": {"ADM1_PCODE": code, "ADM1_EN": name, "ADM0_PCODE": "UA"},
            "geometry": mapping(geom),
        }
        for code, name, geom in rows
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def _assert_same_set(a, b) -> None:
    fields = ("name", "source", "version", "date", "sha256", "notes", "snap_default_m", "checks")
    assert [getattr(a, f) for f in fields] == [getattr(b, f) for f in fields]
    assert a.levels_available == b.levels_available
    for n in a.levels:
        pd.testing.assert_frame_equal(a.levels[n], b.levels[n])
        assert a.levels[n].crs == b.levels[n].crs


def _entries(cache: Path) -> list[Path]:
    return sorted(p for p in (cache / "boundaries").iterdir() if not p.name.startswith("."))


@pytest.mark.slow
@pytest.mark.skipif(not CAF.is_dir(), reason="needs ../shared/data")
def test_second_load_of_the_caf_folder_comes_from_the_cache_and_equals_the_first(tmp_path, builds):
    first = load_boundaries(CAF, cache_dir=tmp_path)
    second = load_boundaries(CAF, cache_dir=tmp_path)
    assert builds == ["caf_codab"]  # assembled once
    _assert_same_set(first, second)
    _assert_same_set(load_boundaries(CAF), second)  # and equal to a load without cache
    assert second.level(3)["code"].str.startswith("CF").all() and len(second.level(3)) == 175


def test_entries_are_owner_only_and_hold_no_temporary_folder(tmp_path, builds):
    source = _squares(tmp_path / "ukr_adm1.geojson")
    cache = tmp_path / "cache"
    load_boundaries(source, cache_dir=cache)
    (entry,) = _entries(cache)
    assert [p.name for p in (cache / "boundaries").iterdir()] == [entry.name]
    assert stat.S_IMODE(entry.stat().st_mode) == 0o700
    assert stat.S_IMODE((cache / "boundaries").stat().st_mode) == 0o700
    for file in entry.iterdir():
        assert stat.S_IMODE(file.stat().st_mode) == 0o600, file.name
    assert sorted(p.name for p in entry.iterdir()) == ["admin1.parquet", "manifest.json"]


def test_a_changed_byte_misses_the_cache_even_with_the_same_size_and_time(tmp_path, builds):
    source = _squares(tmp_path / "ukr_adm1.geojson")
    cache = tmp_path / "cache"
    assert list(load_boundaries(source, cache_dir=cache).level(1)["name"]) == ["Alpha", "Beta"]
    before = source.stat()
    _squares(source, second_name="Gama")  # same length
    os.utime(source, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert source.stat().st_size == before.st_size
    again = load_boundaries(source, cache_dir=cache)
    assert list(again.level(1)["name"]) == ["Alpha", "Gama"]
    assert builds == ["ukr_adm1", "ukr_adm1"]
    assert len(_entries(cache)) == 2
    # the options are part of the key too
    load_boundaries(source, cache_dir=cache, country="UKR")
    assert len(builds) == 3


@pytest.mark.parametrize(
    "damage",
    [
        lambda e: (e / "admin1.parquet").write_bytes(b"PAR1 not really"),
        lambda e: (e / "admin1.parquet").write_bytes((e / "admin1.parquet").read_bytes()[:-9]),
        lambda e: (e / "manifest.json").write_text("{"),
        lambda e: (e / "manifest.json").unlink(),
        lambda e: (e / "manifest.json").write_text(
            (e / "manifest.json").read_text().replace(f'"format": {cache.FORMAT}', '"format": 0')
        ),
    ],
    ids=["garbage", "truncated", "bad-json", "no-manifest", "old-format"],
)
def test_a_damaged_entry_is_ignored_and_rebuilt(tmp_path, builds, damage):
    source = _squares(tmp_path / "ukr_adm1.geojson")
    cache = tmp_path / "cache"
    first = load_boundaries(source, cache_dir=cache)
    (entry,) = _entries(cache)
    damage(entry)
    rebuilt = load_boundaries(source, cache_dir=cache)
    assert builds == ["ukr_adm1", "ukr_adm1"]
    _assert_same_set(first, rebuilt)
    load_boundaries(source, cache_dir=cache)  # the rebuilt entry is good again
    assert len(builds) == 2


def test_an_edited_level_with_a_matching_size_is_not_trusted(tmp_path, builds):
    source = _squares(tmp_path / "ukr_adm1.geojson")
    cache = tmp_path / "cache"
    first = load_boundaries(source, cache_dir=cache)
    (entry,) = _entries(cache)
    level = entry / "admin1.parquet"
    data = bytearray(level.read_bytes())
    data[len(data) // 2] ^= 0xFF
    level.write_bytes(bytes(data))
    _assert_same_set(first, load_boundaries(source, cache_dir=cache))
    assert len(builds) == 2


def test_uploads_are_cached_on_their_bytes(tmp_path, builds):
    data = _squares(tmp_path / "ukr_adm1.geojson").read_bytes()
    cache = tmp_path / "cache"
    first = read_boundary_bytes(data, "ukr_adm1.geojson", cache_dir=cache)
    second = read_boundary_bytes(data, "ukr_adm1.geojson", cache_dir=cache)
    assert builds == ["ukr_adm1"]
    _assert_same_set(first, second)
    changed = data.replace(b"Beta", b"Gama")
    assert list(read_boundary_bytes(changed, "ukr_adm1.geojson", cache_dir=cache).level(1)[
        "name"
    ]) == ["Alpha", "Gama"]  # fmt: skip


def test_an_unwritable_cache_folder_only_means_no_cache(tmp_path, builds):
    source = _squares(tmp_path / "ukr_adm1.geojson")
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache folder would be")
    assert list(load_boundaries(source, cache_dir=blocker).level(1)["code"]) == ["UA01", "UA02"]
    assert builds == ["ukr_adm1"]


def test_the_cli_keeps_prepared_sets_in_the_data_directory(tmp_path, monkeypatch, capsys, builds):
    from crisismap.cli import main

    monkeypatch.setenv("CRISISMAP_DATA_DIR", str(tmp_path / "data"))
    source = _squares(tmp_path / "ukr_adm1.geojson")
    assert main(["boundaries", str(source)]) == 0
    assert main(["boundaries", str(source)]) == 0
    out = capsys.readouterr().out
    assert out.count("admin-1: 2 regions") == 2
    assert builds == ["ukr_adm1"]
    assert len(_entries(tmp_path / "data" / "cache")) == 1
