"""SpatialAlign training end to end on a tiny random Wan: what trains, what is saved, what loads."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors.torch import load_file
from transformers import TrainerCallback

from dsr.errors import BusyError, ConfigError
from dsr.training.run import train


def _lora(folder: Path) -> dict[str, torch.Tensor]:
    return load_file(str(folder / "pytorch_lora_weights.safetensors"))


def _log(folder: Path) -> list[dict[str, Any]]:
    import json

    return [json.loads(line) for line in (folder / "training_log.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def trained(tiny_wan, pairs_dataset, shared_cache, tmp_path_factory):
    """One 3-step run with default settings but the tiny sizes (shared by several tests)."""
    from _training_helpers import FAST

    from dsr.training.config import SpatialAlignConfig

    out = tmp_path_factory.mktemp("trained") / "run"
    config = SpatialAlignConfig(
        output_dir=str(out),
        dataset=str(pairs_dataset),
        base_model=str(tiny_wan),
        cache_dir=str(shared_cache),
        **FAST,
    )
    return config, train(config, command="dsr train --tiny")


def test_adapters_sit_exactly_on_the_spec_modules(make_config, tiny_wan) -> None:
    from dsr.training.model import add_lora, load_transformer

    model = load_transformer(make_config())
    targets = add_lora(model, make_config())
    adapted = {n.rsplit(".lora_A", 1)[0] for n, _ in model.named_modules() if n.endswith(".lora_A")}
    expected = {
        "condition_embedder.text_embedder.linear_1",
        "condition_embedder.text_embedder.linear_2",
        "blocks.0.attn2.to_k",
        "blocks.0.attn2.to_v",
        "blocks.1.attn2.to_k",
        "blocks.1.attn2.to_v",
    }
    assert adapted == expected and set(targets) == expected
    assert all(p.requires_grad == ("lora_" in n) for n, p in model.named_parameters())
    assert all(p.dtype == torch.float32 for n, p in model.named_parameters() if "lora_" in n)
    with pytest.raises(ConfigError, match="matches no Linear module"):
        add_lora(load_transformer(make_config()), make_config(lora_target_modules=["to_k"]))


def test_first_loss_is_log2_and_lora_changes_while_the_base_stays(trained, tiny_wan) -> None:
    from diffusers import WanTransformer3DModel

    config, result = trained
    out = Path(config.output_dir)
    log = [e for e in _log(out) if "loss" in e]
    assert [e["step"] for e in log] == [1, 2, 3] and result.global_step == 3
    assert log[0]["loss/dpo"] == pytest.approx(math.log(2), abs=1e-6)  # fresh adapter: margin 0
    assert log[0]["loss/zo"] == 0.0
    for key in (
        "rewards/chosen",
        "rewards/rejected",
        "rewards/margins",
        "rewards/accuracies",
        "learning_rate",
    ):
        assert key in log[-1]
    lora = _lora(out)
    assert lora and all(k.startswith("transformer.") for k in lora)
    assert any(
        torch.count_nonzero(v) for k, v in lora.items() if "lora_B" in k
    )  # B starts at 0: it trained
    base = WanTransformer3DModel.from_pretrained(str(tiny_wan), subfolder="transformer")
    from dsr.training.model import SpatialAlignModel, load_lora, load_transformer

    model = load_transformer(config)
    from dsr.training.model import add_lora

    add_lora(model, config)
    load_lora(model, out)
    merged = {
        k.replace(".base_layer", ""): v for k, v in model.state_dict().items() if "lora_" not in k
    }
    for name, tensor in base.state_dict().items():
        assert torch.equal(merged[name], tensor), name
    assert isinstance(SpatialAlignModel(model).dtype, torch.dtype)


class _Fixed(torch.utils.data.Dataset):
    def __init__(self, inner, n):
        self.item, self.n = inner[0], n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, k: int):
        return self.item


def test_loss_goes_down_on_a_fixed_batch(make_config) -> None:
    from dsr.training.cache import precompute
    from dsr.training.data import load_pair_set, resolve_dataset
    from dsr.training.dataset import PairDraws
    from dsr.training.model import SpatialAlignModel, add_lora, load_transformer
    from dsr.training.trainer import SpatialAlignTrainer

    config = make_config(max_steps=15, effective_batch_size=1, learning_rate=2e-2)
    source = resolve_dataset(config.dataset)
    pairs = load_pair_set(source)
    index = precompute(config, pairs, source, show_progress=False)
    model = load_transformer(config)
    add_lora(model, config)
    data = _Fixed(PairDraws(pairs, index, num_draws=1, seed=0), 15)
    trainer = SpatialAlignTrainer(model=SpatialAlignModel(model), args=config, train_dataset=data)
    trainer.train()
    losses = [e["loss"] for e in trainer.state.log_history if "loss" in e]
    assert losses[0] == pytest.approx(math.log(2), abs=1e-6)
    assert losses[-1] < losses[0] - 0.02
    assert all(
        b < a for a, b in zip(losses, losses[1:], strict=False)
    )  # seeded: every step lowers it
    margins = [e["rewards/margins"] for e in trainer.state.log_history if "loss" in e]
    assert margins[-1] > 0


class _Model(TrainerCallback):
    def on_train_begin(self, args, state, control, model=None, **kwargs):
        self.checkpointing = model.transformer.gradient_checkpointing


@pytest.fixture(scope="module")
def sequential(tiny_wan, pairs_dataset, shared_cache, tmp_path_factory):
    """One 2-step run with ``pair_forward="sequential"``, no recomputation (the reference of both
    the batched and the checkpointed run): (result, folder, whether it checkpointed)."""
    from _training_helpers import FAST

    from dsr.training.config import SpatialAlignConfig

    out = tmp_path_factory.mktemp("sequential") / "run"
    config = SpatialAlignConfig(
        output_dir=str(out),
        dataset=str(pairs_dataset),
        base_model=str(tiny_wan),
        cache_dir=str(shared_cache),
        **{**FAST, "max_steps": 2, "pair_forward": "sequential", "activation_checkpointing": False},
    )
    seen = _Model()
    result = train(config, callbacks=[seen])
    return result, out, seen.checkpointing


def test_sequential_pair_forward_matches_batched(make_config, sequential, tmp_path) -> None:
    a = train(make_config(output_dir=str(tmp_path / "a"), max_steps=2, pair_forward="batched"))
    b, b_folder, _ = sequential
    la, lb = _lora(tmp_path / "a"), _lora(b_folder)
    for key in la:
        assert torch.allclose(la[key], lb[key], atol=1e-6), key
    assert a.final_metrics["loss"] == pytest.approx(b.final_metrics["loss"], abs=1e-6)


class _StopAt(TrainerCallback):
    def __init__(self, step: int) -> None:
        self.step = step

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == self.step:
            control.should_training_stop = True
        return control


def test_resume_equals_an_uninterrupted_run(make_config, tmp_path) -> None:
    settings = {"max_steps": 4, "save_steps": 2, "warmup_steps": 1, "lr_scheduler_type": "cosine"}
    train(make_config(output_dir=str(tmp_path / "straight"), **settings))
    stopped = make_config(output_dir=str(tmp_path / "resumed"), **settings)
    first = train(stopped, callbacks=[_StopAt(2)])
    assert first.global_step == 2 and (tmp_path / "resumed" / "checkpoint-2").is_dir()
    second = train(make_config(output_dir=str(tmp_path / "resumed"), **settings))
    assert second.resumed_from == "checkpoint-2" and second.global_step == 4
    straight, resumed = _lora(tmp_path / "straight"), _lora(tmp_path / "resumed")
    for key in straight:
        assert torch.equal(straight[key], resumed[key]), key
    # the rate each optimizer step applied (logged at step k + 1), across the resume: the
    # authors' LambdaLR with this warm-up, k / 1 then 0.5 (1 + cos(pi (k - 1) / (3000 - 1)))
    rates = {e["step"]: e["learning_rate"] for e in _log(tmp_path / "resumed") if "loss" in e}
    expected = [0.0, *(0.5 * (1 + math.cos(math.pi * (k - 1) / 2999)) for k in (1, 2, 3))]
    assert [rates[k + 1] for k in range(4)] == pytest.approx([1e-3 * m for m in expected])


def test_finished_run_is_a_no_op_and_other_settings_are_refused(trained, make_config) -> None:
    config, _ = trained
    before = _lora(Path(config.output_dir))
    again = train(make_config(output_dir=config.output_dir))
    assert again.already_done and torch.equal(
        next(iter(before.values())), next(iter(_lora(Path(config.output_dir)).values()))
    )
    with pytest.raises(ConfigError, match="holds a run with other settings \\(beta differ"):
        train(make_config(output_dir=config.output_dir, beta=2.0))


def test_overwrite_output_dir_starts_afresh(make_config, tmp_path) -> None:
    train(make_config(output_dir=str(tmp_path / "o"), max_steps=1, save_steps=1))
    result = train(
        make_config(
            output_dir=str(tmp_path / "o"), max_steps=1, beta=2.0, overwrite_output_dir=True
        )
    )
    assert result.global_step == 1 and result.resumed_from is None


def test_a_second_concurrent_run_is_refused(make_config, tmp_path) -> None:
    from dsr.locks import exclusive_lock

    out = tmp_path / "busy"
    with (
        exclusive_lock(out / ".dsr-train.lock", "test"),
        pytest.raises(BusyError, match="is in use by process"),
    ):
        train(make_config(output_dir=str(out)))
    assert not (out / "pytorch_lora_weights.safetensors").exists()


class _EncoderCalls(TrainerCallback):
    """Records which modules run during training steps (a global forward hook)."""

    def __init__(self) -> None:
        self.during_steps: set[str] = set()
        self.in_step = False
        self.handle = torch.nn.modules.module.register_module_forward_hook(self._hook)

    def _hook(self, module, args, output):
        if self.in_step:
            self.during_steps.add(type(module).__module__)

    def on_step_begin(self, args, state, control, **kwargs):
        self.in_step = True

    def on_step_end(self, args, state, control, **kwargs):
        self.in_step = False


def test_training_steps_never_run_the_vae_or_the_text_encoder(make_config, tmp_path) -> None:
    calls = _EncoderCalls()
    try:
        train(
            make_config(
                output_dir=str(tmp_path / "hooks"),
                cache_dir=str(tmp_path / "fresh-cache"),
                max_steps=2,
            ),
            callbacks=[calls],
        )
    finally:
        calls.handle.remove()
    assert any("transformer_wan" in m for m in calls.during_steps)
    assert not any("autoencoder" in m or "umt5" in m for m in calls.during_steps), (
        calls.during_steps
    )


def test_saved_adapter_loads_into_a_fresh_pipeline_and_changes_its_output(
    trained, tiny_wan
) -> None:
    from diffusers import WanPipeline

    config, _ = trained

    def sample(lora: bool):
        pipe = WanPipeline.from_pretrained(str(tiny_wan))
        if lora:
            pipe.load_lora_weights(config.output_dir)
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

    import numpy as np

    base, adapted, again = sample(False), sample(True), sample(True)
    assert not np.array_equal(base, adapted) and np.array_equal(adapted, again)


def test_record_and_card_state_schedule_clipping_decay_and_timestep_precision(trained) -> None:
    import json

    config, _ = trained
    out = Path(config.output_dir)
    record = json.loads((out / "training_config.json").read_text())
    # FAST: 3 steps, no warm-up, the default horizon 3000: the last step (k = 2) at this multiplier
    last = 0.5 * (1 + math.cos(math.pi * 2 / 3000))
    assert record["optimization"] == {
        "optimizer": record["settings"]["optim"],
        "learning_rate": 1e-3,
        "weight_decay": 0.01,
        "betas": [0.9, 0.999],
        "lr_scheduler": "cosine",
        "warmup_steps": 0,
        "cosine_horizon": 3000,
        "max_steps": 3,
        "final_lr_multiplier": pytest.approx(last),
        "max_grad_norm": None,
        "timestep_dtype": "float32",
    }
    card = (out / "README.md").read_text()
    assert "| cosine horizon | 3000 |" in card and "| weight decay | 0.01 |" in card
    assert "no gradient clipping" in card and "conditioning timestep in float32" in card
    assert "reaches 0 at step 3000, run for 3 steps" in card


def test_model_card_parses_and_its_snippet_runs(trained, tiny_wan, tmp_path, monkeypatch) -> None:
    import json

    from huggingface_hub import ModelCard

    from dsr.cards import usage_snippet

    config, _ = trained
    out = Path(config.output_dir)
    card = ModelCard.load(out / "README.md")
    assert card.data.library_name == "diffusers" and card.data.pipeline_tag == "text-to-video"
    assert {"lora", "text-to-video", "dpo", "spatialalign"} <= set(card.data.tags)
    assert card.data.base_model is None  # a local folder is named in the text, not as a Hub id
    assert "| λ_ZO | 0.25 |" in card.text and "training_curves.png" in card.text
    record = json.loads((out / "training_config.json").read_text())
    assert record["lora"]["target_modules"] and record["settings"]["reg"] == "zo"
    assert record["dataset"] == {"local_folder": "ds"} and record["finished"]
    for name in ("README.md", "training_config.json", "training_log.jsonl"):
        assert str(Path(config.output_dir).parent) not in (out / name).read_text(), name
    code = usage_snippet(
        str(tiny_wan),
        str(out),
        generation={"height": 32, "width": 32, "num_frames": 5, "num_inference_steps": 2, "fps": 8},
        device="cpu",
        dtype="float32",
    )
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "snippet", "exec"), {})
    assert (tmp_path / "spatialalign.mp4").stat().st_size > 0


def test_activation_checkpointing_is_switched_on_the_diffusers_way(
    make_config, sequential, tmp_path
) -> None:
    plain, plain_folder, plain_checkpointing = sequential  # the same run without recomputation
    seen = _Model()
    ckpt = train(
        make_config(
            output_dir=str(tmp_path / "ckpt"),
            max_steps=2,
            pair_forward="sequential",
            activation_checkpointing=True,
        ),
        callbacks=[seen],
    )
    assert seen.checkpointing is True and plain_checkpointing is False
    a, b = _lora(plain_folder), _lora(tmp_path / "ckpt")
    assert all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)  # recomputation changes nothing
    assert plain.final_metrics["loss"] == pytest.approx(ckpt.final_metrics["loss"], abs=1e-6)


def test_bf16_autocast_keeps_the_adapter_in_float32(make_config, tmp_path) -> None:
    result = train(
        make_config(output_dir=str(tmp_path / "bf16"), max_steps=2, bf16=True, use_cpu=True)
    )
    assert math.isfinite(result.final_metrics["loss"])
    assert all(v.dtype == torch.float32 for v in _lora(tmp_path / "bf16").values())


def test_the_seed_reproduces_the_adapter(make_config, tmp_path) -> None:
    torch.manual_seed(123)  # whatever the process did before must not matter
    train(make_config(output_dir=str(tmp_path / "a"), max_steps=1, seed=4))
    train(make_config(output_dir=str(tmp_path / "b"), max_steps=1, seed=4))
    train(make_config(output_dir=str(tmp_path / "c"), max_steps=1, seed=5))
    a, b, c = (_lora(tmp_path / n) for n in "abc")
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)


def test_paper_exact_trains_on_the_authors_bf16_timesteps(make_config, tmp_path) -> None:
    import json

    config = make_config(
        output_dir=str(tmp_path / "exact"), max_steps=2, paper_exact=True, log_pair_draws=True
    )
    assert config.timestep_dtype == "bfloat16"
    train(config)
    draws = [
        json.loads(line)
        for line in (tmp_path / "exact" / "pair_draws" / "rank-0.jsonl").read_text().splitlines()
    ]
    # the authors' noise levels, written out: their float32 grid at the grid timestep nearest
    # to each timestep cast to bf16
    grid = torch.linspace(1.0, 0.0, 1001)[:-1]
    grid = 5.0 * grid / (1 + 4.0 * grid)
    levels = {
        float(grid[torch.argmin((grid * 1000 - t.to(torch.bfloat16)).abs())]) for t in grid * 1000
    }
    assert len(levels) == 294 and len(draws) == 4
    assert all(d["sigma"] in levels for d in draws)
    record = json.loads((tmp_path / "exact" / "training_config.json").read_text())
    assert record["optimization"]["timestep_dtype"] == "bfloat16"
    assert record["settings"]["paper_exact"] is True
