"""Pushing an adapter to the (loopback) Hub: checked before training, one tagged commit of the
published files only, loadable by tag with diffusers; no secret and no local path in it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from dsr.errors import HubError
from dsr.training.run import train

REPO = "tester/spatialalign-tiny"


def test_push_is_checked_before_training(make_config, tmp_path, hub, monkeypatch) -> None:
    out = tmp_path / "never"
    with pytest.raises(HubError, match="no Hugging Face token"):
        train(
            make_config(output_dir=str(out), push_to_hub=True, hub_model_id=REPO, version="v1.0.0")
        )
    monkeypatch.setenv("HF_TOKEN", "hf_" + "w" * 30)
    with pytest.raises(HubError, match="refused the token"):
        train(
            make_config(output_dir=str(out), push_to_hub=True, hub_model_id=REPO, version="v1.0.0")
        )
    assert (
        not list(out.glob("checkpoint-*"))
        and not (out / "pytorch_lora_weights.safetensors").exists()
    )


def test_push_tag_and_load_the_adapter_by_tag(
    make_config, tmp_path, hub, hub_token, tiny_wan
) -> None:
    from diffusers import WanPipeline
    from huggingface_hub import ModelCard, hf_hub_download

    out = tmp_path / "pushed"
    result = train(
        make_config(
            output_dir=str(out), push_to_hub=True, hub_model_id=REPO, version="v1.0.0", save_steps=1
        )
    )
    assert hub.tags(REPO, repo_type="model") == {"v1.0.0": result.pushed}
    files = hub.files(REPO, "v1.0.0", repo_type="model")
    assert sorted(f for f in files if not f.startswith(".")) == [  # no checkpoints, no caches
        "README.md",
        "all_results.json",
        "pytorch_lora_weights.safetensors",
        "train_results.json",
        "trainer_state.json",
        "training_config.json",
        "training_curves.png",
        "training_log.jsonl",
    ]
    for name, data in files.items():
        if name.endswith((".md", ".json", ".jsonl")):
            text = data.decode()
            assert hub_token not in text and str(tmp_path) not in text and "/tmp/" not in text, name
    card = ModelCard.load(hf_hub_download(REPO, "README.md", revision="v1.0.0"))
    assert f'pipe.load_lora_weights("{REPO}", revision="v1.0.0")' in card.text

    def sample(pipe):
        return pipe(
            "a fox is on the left of a stump",
            height=32,
            width=32,
            num_frames=5,
            num_inference_steps=2,
            generator=torch.Generator("cpu").manual_seed(0),
            output_type="np",
            max_sequence_length=16,
        ).frames

    remote = WanPipeline.from_pretrained(str(tiny_wan))
    remote.load_lora_weights(REPO, revision="v1.0.0")
    local = WanPipeline.from_pretrained(str(tiny_wan))
    local.load_lora_weights(str(out))
    assert np.array_equal(sample(remote), sample(local))

    with pytest.raises(HubError, match="already has tag v1.0.0.*--force"):
        train(
            make_config(
                output_dir=str(tmp_path / "second"),
                push_to_hub=True,
                hub_model_id=REPO,
                version="v1.0.0",
            )
        )
    assert not (
        tmp_path / "second" / "pytorch_lora_weights.safetensors"
    ).exists()  # refused before training
    again = train(
        make_config(
            output_dir=str(out),
            push_to_hub=True,
            hub_model_id=REPO,
            version="v1.0.0",
            save_steps=1,
            force=True,
        )
    )
    assert again.already_done and hub.tags(REPO, repo_type="model")["v1.0.0"] == again.pushed


def test_hub_dataset_at_a_tag_trains_and_is_named_in_the_card(
    make_config, pairs_dataset, tmp_path, hub, hub_token
) -> None:
    import json
    import shutil

    from dsr.hub import push_folder

    local = tmp_path / "ds"
    shutil.copytree(pairs_dataset, local, ignore=shutil.ignore_patterns(".dsr"))
    push_folder(local, "tester/dsr-for-training", version="v2.0.0")
    out = tmp_path / "from-hub"
    train(
        make_config(
            output_dir=str(out),
            dataset="tester/dsr-for-training",
            dataset_revision="v2.0.0",
            max_steps=1,
        )
    )
    record = json.loads((out / "training_config.json").read_text())
    sha = hub.tags("tester/dsr-for-training")["v2.0.0"]
    assert record["dataset"] == {
        "repo_id": "tester/dsr-for-training",
        "revision": "v2.0.0",
        "commit": sha,
    }
    card = (out / "README.md").read_text()
    assert "datasets:\n- tester/dsr-for-training" in card and f"commit `{sha}`" in card
    assert Path(record["settings"]["dataset"]) == Path("tester/dsr-for-training")
