"""SpatialAlignConfig: the paper's defaults (docs/method.md §6) and one clear error per bad
value."""

from __future__ import annotations

import pytest

from dsr.errors import ConfigError
from dsr.training.config import SpatialAlignConfig


def test_defaults_follow_the_paper(tmp_path) -> None:
    c = SpatialAlignConfig(output_dir=str(tmp_path))
    assert (c.learning_rate, str(c.lr_scheduler_type.value), c.warmup_steps, c.max_steps) == (
        1e-4,
        "cosine",
        300,
        2400,
    )
    assert c.optim.value.startswith("adamw")
    assert (c.beta, c.lambda_zo, c.margin_clip, c.reg) == (1.0, 0.25, 5.0, "zo")
    assert (c.lora_rank, c.lora_alpha, c.timestep_shift, c.num_train_timesteps) == (
        16,
        16.0,
        5.0,
        1000,
    )
    assert c.lora_target_modules == [
        "condition_embedder.text_embedder.linear_1",
        "condition_embedder.text_embedder.linear_2",
        "blocks.*.attn2.to_k",
        "blocks.*.attn2.to_v",
    ]
    assert (
        c.shared_noise is False
        and c.timestep_sampling == "uniform"
        and c.pair_forward == "sequential"
    )
    # the authors' run: torch's AdamW weight decay, Lightning's no clipping, checkpointing always on
    assert (c.weight_decay, c.max_grad_norm, c.activation_checkpointing) == (0.01, 0.0, True)
    assert (c.cosine_horizon, c.timestep_dtype, c.paper_exact) == (3000, "float32", False)
    # effective batch 48 with one pair per device on one process → 48 accumulation steps
    assert (c.per_device_train_batch_size, c.gradient_accumulation_steps, c.total_batch_size) == (
        1,
        48,
        48,
    )
    assert c.base_model == "Wan-AI/Wan2.1-T2V-1.3B-Diffusers"
    assert c.bf16 is False  # no GPU here; on one with bf16 it defaults on
    assert c.remove_unused_columns is False and c.ddp_find_unused_parameters is False


def test_effective_batch_sets_accumulation(tmp_path) -> None:
    c = SpatialAlignConfig(
        output_dir=str(tmp_path), effective_batch_size=12, per_device_train_batch_size=3
    )
    assert c.gradient_accumulation_steps == 4 and c.total_batch_size == 12
    c = SpatialAlignConfig(
        output_dir=str(tmp_path), effective_batch_size=None, gradient_accumulation_steps=5
    )
    assert c.gradient_accumulation_steps == 5 and c.total_batch_size == 5


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"beta": 0.0}, "beta=0.0: must be > 0"),
        ({"lambda_zo": -0.1}, "lambda_zo=-0.1"),
        ({"reg": "kl"}, "reg='kl': choose one of zo, sft, none"),
        ({"margin_clip": 0}, "margin_clip=0"),
        ({"tau_train": 1.5}, "tau_train=1.5: must lie in \\[0, 1\\]"),
        ({"lora_rank": 0}, "lora_rank=0"),
        ({"lora_dropout": 1.0}, "lora_dropout=1.0"),
        ({"timestep_sampling": "cosine"}, "timestep_sampling='cosine'"),
        ({"pair_forward": "parallel"}, "pair_forward='parallel'"),
        ({"train_num_frames": 80}, "train_num_frames=80: Wan needs 4k\\+1"),
        (
            {"train_height": 100, "train_width": 96},
            "train_height=100: must be a positive multiple of 16",
        ),
        ({"train_height": 64}, "give train_height and train_width together"),
        ({"cache_dtype": "float16"}, "cache_dtype='float16'"),
        ({"version": "1.0"}, "version='1.0' is not a release tag"),
        (
            {"effective_batch_size": 5, "per_device_train_batch_size": 2},
            "effective_batch_size=5 is not a multiple",
        ),
        (
            {"effective_batch_size": 8, "gradient_accumulation_steps": 2},
            "gradient_accumulation_steps=2 contradicts",
        ),
        ({"max_steps": 0}, "max_steps=0"),
    ],
)
def test_bad_values_name_the_field(tmp_path, overrides, message) -> None:
    with pytest.raises(ConfigError, match=message):
        SpatialAlignConfig(output_dir=str(tmp_path), **overrides)


def test_output_dir_is_required() -> None:
    with pytest.raises(ConfigError, match="output_dir is not set"):
        SpatialAlignConfig()


def test_public_settings_hold_no_secret_or_local_path(tmp_path) -> None:
    c = SpatialAlignConfig(output_dir=str(tmp_path / "out"), hub_token="hf_" + "x" * 30)
    text = repr(c.public_dict())
    assert "hf_xxx" not in text and str(tmp_path) not in text


def test_paper_exact_sets_the_bf16_timestep(tmp_path) -> None:
    assert SpatialAlignConfig(output_dir=str(tmp_path), paper_exact=True).timestep_dtype == (
        "bfloat16"
    )
