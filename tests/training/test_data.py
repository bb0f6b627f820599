"""Training data: pairs and samples read from a dataset folder or the (loopback) Hub, checked,
re-derived with another tau, and drawn reproducibly (docs/method.md §5)."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import polars as pl
import pytest

from dsr.builders.folder import DatasetFolder
from dsr.errors import DataError
from dsr.training.data import load_pair_set, resolve_dataset


def _samples(root: Path) -> pl.DataFrame:
    return pl.concat(
        [pl.read_parquet(f) for f in DatasetFolder(root).data_files("samples", "train")]
    )


def test_pairs_are_the_valid_winners_and_losers_of_each_prompt(pairs_dataset: Path) -> None:
    pairs = load_pair_set(resolve_dataset(str(pairs_dataset)))
    df = _samples(pairs_dataset)
    assert len(pairs.prompts) == 4 and pairs.tau == 0.7 and not pairs.derived
    for p in pairs.prompts:
        rows = df.filter(pl.col("prompt_id") == p.prompt_id).to_dicts()
        winners = {r["sample_id"] for r in rows if r["valid"] and r["dsr_score"] >= 0.7}
        losers = {r["sample_id"] for r in rows if r["valid"] and r["dsr_score"] < 0.7}
        assert set(p.chosen) == winners and set(p.rejected) == losers


def test_samples_keep_their_rows_and_repeated_strings_are_held_once(pairs_dataset: Path) -> None:
    pairs = load_pair_set(resolve_dataset(str(pairs_dataset)))
    stored = {r["sample_id"]: r for r in _samples(pairs_dataset).to_dicts()}
    assert pairs.samples
    assert all(row == {k: stored[sid][k] for k in row} for sid, row in pairs.samples.items())
    # a long run holds one row per paired video: equal strings (the settings JSON of one
    # generator, the prompt of its seeds) are one object each
    for column in ("generator_settings", "prompt", "dsr_type"):
        values = [row[column] for row in pairs.samples.values()]
        assert len({id(v) for v in values}) == len(set(values)), column
    assert len(set(values)) < len(values)  # there was something to share


def test_tau_rederives_winners_and_losers(pairs_dataset: Path) -> None:
    pairs = load_pair_set(resolve_dataset(str(pairs_dataset)), tau=0.3)
    df = _samples(pairs_dataset).filter(pl.col("valid"))
    assert pairs.derived and pairs.tau == 0.3
    expected = {}
    for pid in df["prompt_id"].unique().to_list():
        rows = df.filter(pl.col("prompt_id") == pid).to_dicts()
        win = {r["sample_id"] for r in rows if r["dsr_score"] >= 0.3}
        lose = {r["sample_id"] for r in rows if r["dsr_score"] < 0.3}
        if win and lose:
            expected[pid] = (win, lose)
    assert {p.prompt_id: (set(p.chosen), set(p.rejected)) for p in pairs.prompts} == expected
    assert expected and len(expected) < 4  # the lower tau leaves some prompts without a loser


def test_draws_visit_every_prompt_once_per_round_and_are_reproducible(pairs_dataset: Path) -> None:
    pairs = load_pair_set(resolve_dataset(str(pairs_dataset)))
    n = len(pairs.prompts)
    assert [pairs.draw(7, k) for k in range(12)] == [pairs.draw(7, k) for k in range(12)]
    for epoch in range(3):
        seen = [pairs.draw(7, k)[0].prompt_id for k in range(epoch * n, (epoch + 1) * n)]
        assert sorted(seen) == sorted(p.prompt_id for p in pairs.prompts)
    orders = {
        tuple(pairs.draw(7, k)[0].prompt_id for k in range(e * n, (e + 1) * n)) for e in range(6)
    }
    assert len(orders) > 1  # shuffled per round
    assert [pairs.draw(7, k) for k in range(8)] != [pairs.draw(8, k) for k in range(8)]


def test_winner_and_loser_are_drawn_uniformly(pairs_dataset: Path) -> None:
    pairs = load_pair_set(resolve_dataset(str(pairs_dataset)))
    prompt = pairs.prompts[0]
    n = len(pairs.prompts)
    picks = [pairs.draw(0, k) for k in range(4000 * n)]
    mine = [(w, lo) for p, w, lo in picks if p.prompt_id == prompt.prompt_id]
    assert all(w in prompt.chosen and lo in prompt.rejected for w, lo in mine)
    for ids, counts in (
        (prompt.chosen, Counter(w for w, _ in mine)),
        (prompt.rejected, Counter(lo for _, lo in mine)),
    ):
        for sid in ids:
            assert abs(counts[sid] / len(mine) - 1 / len(ids)) < 0.04


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns(".dsr"))
    return dst


def test_missing_pairs_config_and_unknown_ids_are_clear_errors(
    pairs_dataset: Path, tmp_path: Path
) -> None:
    with pytest.raises(DataError, match="has no `pairs-vlm` config"):
        load_pair_set(resolve_dataset(str(pairs_dataset)), pairs_config="pairs-vlm")
    broken = _copy(pairs_dataset, tmp_path / "broken")
    pairs_file = DatasetFolder(broken).data_files("pairs", "train")[0]
    df = pl.read_parquet(pairs_file)
    df = df.with_columns(pl.col("chosen_ids").list.eval(pl.element() + "-gone"))
    df.write_parquet(pairs_file)
    with pytest.raises(DataError, match="not in the samples config"):
        load_pair_set(resolve_dataset(str(broken)))


def test_no_qualifying_prompt_is_an_error(pairs_dataset: Path) -> None:
    with pytest.raises(DataError, match="no qualifying prompt"):
        load_pair_set(
            resolve_dataset(str(pairs_dataset)), tau=0.0
        )  # every valid sample wins: no loser


def test_missing_folder_and_revision_on_a_folder_are_refused(
    pairs_dataset: Path, tmp_path: Path
) -> None:
    with pytest.raises(DataError, match="is not a folder"):
        resolve_dataset(str(tmp_path / "nope"))
    with pytest.raises(DataError, match="applies to Hub datasets"):
        resolve_dataset(str(pairs_dataset), "v1.0.0")


def test_hub_dataset_at_a_tag_reads_like_the_folder(
    pairs_dataset: Path, tmp_path: Path, hub, hub_token
) -> None:
    from dsr.hub import push_folder

    local = _copy(pairs_dataset, tmp_path / "ds")
    push_folder(local, "tester/dsr-train-data", version="v1.0.0")
    source = resolve_dataset("tester/dsr-train-data", "v1.0.0")
    assert source.repo_id == "tester/dsr-train-data" and source.revision == "v1.0.0"
    assert source.commit == hub.tags("tester/dsr-train-data")["v1.0.0"]
    assert not list(source.root.glob("prompts/*"))  # only the two configs it needs
    remote, here = load_pair_set(source), load_pair_set(resolve_dataset(str(local)))
    assert remote.prompts == here.prompts
    with pytest.raises(DataError, match="no revision 'v9.9.9'"):
        resolve_dataset("tester/dsr-train-data", "v9.9.9")
    with pytest.raises(DataError, match="cannot download dataset tester/absent"):
        resolve_dataset("tester/absent")
