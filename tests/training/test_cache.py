"""Precomputed latents and text embeddings: equal to an independent encoding, computed once,
keyed by the checkpoint and the settings, split over ranks."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from dsr.errors import DataError
from dsr.training.cache import precompute, video_tensor
from dsr.training.data import load_pair_set, resolve_dataset


def _inputs(config):
    source = resolve_dataset(config.dataset)
    return load_pair_set(source), source


def _video_bytes(dataset: Path, sample_id: str) -> bytes:
    import pyarrow.parquet as pq

    from dsr.builders.folder import DatasetFolder

    for f in DatasetFolder(dataset).data_files("samples", "train"):
        for row in pq.read_table(f, columns=["sample_id", "video"]).to_pylist():
            if row["sample_id"] == sample_id:
                return row["video"]["bytes"]
    raise KeyError(sample_id)


@pytest.fixture(scope="module")
def split_run(tiny_wan, pairs_dataset, tmp_path_factory):
    """A fresh cache filled by two 'ranks' one after the other: (config, pairs, rank 0's
    index, rank 1's)."""
    from _training_helpers import FAST

    from dsr.training.config import SpatialAlignConfig

    config = SpatialAlignConfig(
        output_dir=str(tmp_path_factory.mktemp("out")),
        dataset=str(pairs_dataset),
        base_model=str(tiny_wan),
        cache_dir=str(tmp_path_factory.mktemp("cache")),
        **FAST,
    )
    pairs, source = _inputs(config)
    first = precompute(config, pairs, source, rank=0, world=2, show_progress=False)
    on_disk = {s for s, p in first.latents.items() if p.exists()}
    second = precompute(config, pairs, source, rank=1, world=2, show_progress=False)
    return config, pairs, first, on_disk, second


def test_ranks_split_the_work(split_run) -> None:
    _, pairs, first, on_disk_after_rank_0, second = split_run
    n = len(pairs.sample_ids)
    assert (
        first.computed["latents_computed"] == (n + 1) // 2 and first.computed["text_computed"] == 2
    )
    assert on_disk_after_rank_0 == set(pairs.sample_ids[0::2])
    assert second.computed["latents_computed"] == n // 2 and second.computed["text_computed"] == 2
    assert all(p.exists() for p in [*second.latents.values(), *second.text.values()])


def test_latents_and_embeddings_equal_an_independent_encoding(
    split_run, tiny_wan, pairs_dataset
) -> None:
    import av
    from diffusers import AutoencoderKLWan, WanPipeline

    config, pairs, _, _, index = split_run
    source = resolve_dataset(config.dataset)
    sid = pairs.prompts[1].rejected[0]
    import io

    with av.open(io.BytesIO(_video_bytes(pairs_dataset, sid))) as container:
        frames = np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])
    picked = frames[[0, 4, 8, 12, 16, 20, 24, 28, 32]]  # 9 of 33 frames, evenly spaced
    pixels = torch.from_numpy(picked).float().div(127.5).sub(1.0).permute(3, 0, 1, 2)[None]
    vae = AutoencoderKLWan.from_pretrained(str(tiny_wan), subfolder="vae")
    with torch.no_grad():
        mu = vae.encode(pixels).latent_dist.mean
    mean = torch.tensor(vae.config.latents_mean).view(1, -1, 1, 1, 1)
    std = torch.tensor(vae.config.latents_std).view(1, -1, 1, 1, 1)
    assert torch.allclose(index.load_latents(sid), ((mu - mean) / std)[0], atol=1e-5)
    assert index.load_latents(sid).shape == (16, 3, 8, 12)  # 9 frames → 3, 64×96 → 8×12

    pipe = WanPipeline.from_pretrained(str(tiny_wan), transformer=None, vae=None)
    prompt = pairs.prompts[1]
    settings = json.loads(pairs.samples[prompt.chosen[0]]["generator_settings"])
    text = settings.get("prompt_text") or prompt.prompt
    with torch.no_grad():
        embeds, _ = pipe.encode_prompt(
            text, do_classifier_free_guidance=False, max_sequence_length=16
        )
    assert torch.equal(index.load_text(prompt.prompt_id), embeds[0])

    again = precompute(config, pairs, source, show_progress=False)
    assert again.computed["latents_computed"] == 0 and again.computed["text_computed"] == 0
    assert again.latents == index.latents


def test_keys_change_with_the_checkpoint_and_the_settings(make_config, tmp_path) -> None:
    from dsr.generation.tiny import save_tiny_wan
    from dsr.training.cache import cache_spec

    base = cache_spec(make_config())
    other_vae = save_tiny_wan(tmp_path / "other", seed=1)
    assert cache_spec(make_config(base_model=str(other_vae))).latent_key != base.latent_key
    assert cache_spec(make_config(train_num_frames=17)).latent_key != base.latent_key
    assert cache_spec(make_config(train_num_frames=17)).text_key == base.text_key
    assert cache_spec(make_config(cache_dtype="bfloat16")).text_key != base.text_key


def test_frame_counts_and_sizes_wan_cannot_take_are_refused() -> None:
    from dsr.media import encode_video

    data = encode_video(np.zeros((10, 64, 96, 3), np.uint8), fps=8)
    with pytest.raises(DataError, match="10 frames; Wan's VAE needs 4k\\+1: set train_num_frames"):
        video_tensor(data, "s1", None, None, None)
    assert video_tensor(data, "s1", 9, None, None).shape == (1, 3, 9, 64, 96)
    odd = encode_video(np.zeros((9, 40, 96, 3), np.uint8), fps=8)
    with pytest.raises(DataError, match="40x96; Wan needs multiples of 16"):
        video_tensor(odd, "s2", None, None, None)
    assert video_tensor(odd, "s2", None, 32, 48).shape == (1, 3, 9, 32, 48)
    with pytest.raises(DataError, match="sample s3"):
        video_tensor(b"not a video", "s3", None, None, None)


def test_content_hashes_are_remembered_per_parquet_file_until_it_changes(
    split_run, pairs_dataset, tmp_path
) -> None:
    import hashlib
    import os

    from dsr.training.cache import CacheSpec, content_hashes

    config, pairs, _, _, _ = split_run
    source = resolve_dataset(config.dataset)
    spec = CacheSpec(tmp_path / "cache", "l", "t")
    wanted = set(pairs.sample_ids)
    expected = {s: hashlib.sha256(_video_bytes(pairs_dataset, s)).hexdigest() for s in wanted}
    assert content_hashes(spec, source, wanted, "samples", "train") == expected
    # A remembered hash is used as long as the file's size and mtime are unchanged: forge one.
    (memo_path,) = (tmp_path / "cache" / "hashes").glob("*.json")
    memo = json.loads(memo_path.read_text())
    sid = sorted(wanted)[0]
    memo["hashes"][sid] = "f" * 64
    memo_path.write_text(json.dumps(memo))
    assert content_hashes(spec, source, wanted, "samples", "train")[sid] == "f" * 64
    # Once the parquet file's mtime changes, its bytes are hashed again.
    parquet = Path(memo["path"])
    stat = parquet.stat()
    os.utime(parquet, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    try:
        assert content_hashes(spec, source, wanted, "samples", "train") == expected
    finally:
        os.utime(parquet, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def test_the_decode_pipeline_yields_every_video_once_and_leaves_no_thread(split_run) -> None:
    import threading

    from dsr.training.cache import decoded_videos

    config, pairs, _, _, _ = split_run
    source = resolve_dataset(config.dataset)
    todo = set(pairs.sample_ids)
    live = {t.name for t in threading.enumerate()}
    seen = []
    for sid, pixels in decoded_videos(config, source, todo, prefetch=2, threads=2):
        assert pixels.shape == (1, 3, 9, 64, 96)
        seen.append(sid)
        decoders = [t for t in threading.enumerate() if t.name.startswith("dsr-decode")]
        assert len(decoders) <= 2
    assert sorted(seen) == sorted(todo)
    assert {t.name for t in threading.enumerate()} <= live | {threading.current_thread().name}


def test_the_decode_pipeline_holds_at_most_prefetch_decoded_videos(split_run) -> None:
    """Whatever the number of videos, the decoded pixels alive at once (queued, being decoded, or
    handed out) never exceed the prefetch depth; a pipeline keeping a reference to every decoded
    video would hold all 8 here."""
    import gc
    import weakref

    from dsr.training.cache import decoded_videos

    config, pairs, _, _, _ = split_run
    source = resolve_dataset(config.dataset)
    todo = set(pairs.sample_ids[:8])

    def alive() -> int:  # tensors of a decoded video's shape anywhere in this process
        shape = (1, 3, 9, 64, 96)
        return sum(type(o) is torch.Tensor and o.shape == shape for o in gc.get_objects())

    before, refs = alive(), []
    for i, (_, pixels) in enumerate(decoded_videos(config, source, todo, prefetch=2, threads=2)):
        refs.append(weakref.ref(pixels))
        del pixels
        if i == 0:  # decoded so far, handed out or not: the first one and at most one ahead
            assert 1 <= alive() - before <= 2
        assert sum(r() is not None for r in refs) <= 1  # none of the earlier ones kept
    assert len(refs) == 8 and alive() == before


def test_checking_the_hashes_does_not_import_pandas(pairs_dataset, tmp_path) -> None:
    """Reading a column of ids goes through ParquetFile, not pyarrow.dataset, whose import of
    pandas alone costs about 50 MiB of RSS in every rank."""
    import subprocess
    import sys

    import pyarrow.parquet as pq

    from dsr.builders.folder import DatasetFolder

    (path,) = DatasetFolder(pairs_dataset).data_files("samples", "train")
    ids = sorted(pq.ParquetFile(path).read(columns=["sample_id"]).column(0).to_pylist())[:5]
    code = (
        "import sys; from pathlib import Path\n"
        "from dsr.builders.dataset_source import DatasetSource\n"
        "from dsr.training.cache import CacheSpec, content_hashes\n"
        f"spec = CacheSpec(Path({str(tmp_path)!r}), 'l', 't')\n"
        f"source = DatasetSource(Path({str(pairs_dataset)!r}))\n"
        "for _ in range(2):  # hashing the videos, then reading the remembered hashes\n"
        f"    assert len(content_hashes(spec, source, set({ids!r}), 'samples', 'train')) == 5\n"
        "print(sorted(m for m in ('pandas', 'pyarrow.dataset') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_index_makes_entry_paths_on_access_and_holds_none_per_sample(split_run) -> None:
    """A Path per sample held for the whole run costs about 0.4 KiB and interns its file name for
    good; the index keeps the content hashes and builds each path when it is asked for."""
    import gc
    from pathlib import PurePath

    config, pairs, _, _, index = split_run
    reachable, seen, stack = [], set(), [index]
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, type):
            continue
        seen.add(id(obj))
        if isinstance(obj, PurePath):
            reachable.append(obj)
        stack.extend(gc.get_referents(obj))
    assert len(index.latents) == len(pairs.sample_ids) == 20
    assert len(reachable) <= 3  # the cache root and the two entry folders, not 20 + 4 files
    sid = pairs.sample_ids[0]
    assert index.latents[sid].parent == Path(config.cache_dir) / "latents" / index.spec.latent_key
    assert index.latents[sid].suffix == ".safetensors" and index.latents[sid].exists()
    assert dict(index.latents) == {s: index.latents[s] for s in pairs.sample_ids}


def test_video_bytes_are_read_one_row_group_at_a_time(tmp_path) -> None:
    """Arrow's live memory while the bytes of a file are streamed stays near one row group
    (0.5 MB here) and a batch, not the file's whole video column (12 MB): pyarrow's default
    pre-buffering reads every row group of the file at once."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from dsr.builders.dataset_source import iter_file_video_bytes

    rng = np.random.default_rng(0)
    videos = [rng.integers(0, 256, 100_000, np.uint8).tobytes() for _ in range(120)]
    ids = [f"s{i:03d}" for i in range(120)]
    table = pa.table({"sample_id": ids, "video": [{"bytes": v, "path": None} for v in videos]})
    pq.write_table(table, tmp_path / "train.parquet", row_group_size=5, compression="none")
    del table
    before, live, got = pa.total_allocated_bytes(), [], {}
    for sid, data in iter_file_video_bytes(tmp_path / "train.parquet", set(ids)):
        live.append(pa.total_allocated_bytes() - before)
        got[sid] = data
    assert got == dict(zip(ids, videos, strict=True))
    assert max(live) < 4_000_000, max(live)  # 1.8 MB measured; the whole column: over 12 MB
