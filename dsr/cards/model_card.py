"""Render the model card (README.md) of a trained adapter from its training record.

The record is the dict ``dsr train`` writes as ``training_config.json`` (see
``dsr.training.outputs.training_record``); the card's YAML metadata is built with
``huggingface_hub.ModelCardData`` so that the Hub reads base model, library and tags from it.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from dsr import DISTRIBUTION, PYPI_URL
from dsr.cards.citation import ARXIV_URL, PAPER_TITLE, citation_section
from dsr.cards.render import mask_secrets

__all__ = ["FAMILY_CARD", "MODEL_TAGS", "render_model_card", "usage_snippet"]

MODEL_TAGS = ["lora", "text-to-video", "dpo", "spatialalign", "diffusers", "wan2.1", "dsr"]

#: Per model family (``training_config.json``'s ``family``): the Hub tag standing for "wan2.1" in
#: :data:`MODEL_TAGS`, where the adapter sits, how it is loaded, and the generation settings the
#: usage snippet falls back on when the training videos recorded none.
FAMILY_CARD: dict[str, dict[str, Any]] = {
    "wan": {
        "tag": "wan2.1",
        "placement": "The adapter sits on the text-embedding projection and on the cross-attention "
        "keys and values of\nevery transformer block; self-attention is untouched",
        "generation": {
            "height": 480,
            "width": 832,
            "num_frames": 81,
            "num_inference_steps": 50,
            "guidance_scale": 5.0,
            "fps": 16,
        },
    },
    "cogvideox": {
        "tag": "cogvideox",
        "placement": "The adapter sits on the text-embedding projection and on the keys and values "
        "of the joint text-video\nattention of every transformer block (CogVideoX has no "
        "cross-attention)",
        "generation": {
            "height": 768,
            "width": 1360,
            "num_frames": 81,
            "num_inference_steps": 50,
            "guidance_scale": 6.0,
            "fps": 16,
        },
    },
    "ltx": {
        "tag": "ltx-video",
        "placement": "The adapter sits on the caption projection and on the cross-attention keys "
        "and values of every\ntransformer block; self-attention is untouched",
        "generation": {
            "height": 480,
            "width": 704,
            "num_frames": 161,
            "num_inference_steps": 50,
            "guidance_scale": 3.0,
            "fps": 25,
        },
    },
    "hunyuanvideo15": {
        "tag": "hunyuanvideo-1.5",
        "placement": "The adapter sits on the text-embedding projection and on the text stream's "
        "keys and values of\nevery dual-stream transformer block; the video stream is untouched",
        "generation": {
            "height": 480,
            "width": 848,
            "num_frames": 121,
            "num_inference_steps": 50,
            "guidance_scale": 6.0,
            "fps": 24,
        },
    },
}

#: Hyperparameters shown in the card's table (all of them are in the JSON block below it).
_TABLE = (
    ("reg", "regularizer"),
    ("beta", "β"),
    ("lambda_zo", "λ_ZO"),
    ("margin_clip", "margin clip"),
    ("learning_rate", "learning rate"),
    ("lr_scheduler_type", "schedule"),
    ("warmup_steps", "warm-up steps"),
    ("cosine_horizon", "cosine horizon"),
    ("max_steps", "steps"),
    ("weight_decay", "weight decay"),
    ("max_grad_norm", "gradient clipping (max norm, 0: none)"),
    ("total_batch_size", "effective batch (pairs)"),
    ("per_device_train_batch_size", "pairs per device"),
    ("gradient_accumulation_steps", "accumulation"),
    ("timestep_sampling", "timestep sampling"),
    ("timestep_shift", "timestep shift"),
    ("timestep_dtype", "timestep precision"),
    ("shared_noise", "shared noise"),
    ("lora_rank", "LoRA rank"),
    ("lora_alpha", "LoRA alpha"),
    ("bf16", "bf16"),
    ("seed", "seed"),
)


def usage_snippet(
    base_model: str,
    adapter: str,
    *,
    revision: str | None = None,
    generation: dict[str, Any] | None = None,
    device: str = "cuda",
    dtype: str = "bfloat16",
    base_is_hub: bool = True,
    prompt: str = "In a sunny meadow, a fox is on the left of a stump, then the fox trots to the "
    "right of the stump.",
    family: str = "wan",
    pipeline: str = "WanPipeline",
) -> str:
    """Python that loads the base pipeline (``pipeline`` of ``family``), applies the adapter and
    samples one prompt with the generation settings the training videos were made with."""
    if family != "wan":
        gen = {**FAMILY_CARD[family]["generation"], **(generation or {})}
        lines = _pipeline_lines(base_model, adapter, revision, family, pipeline, device, dtype)
        return "\n".join([*lines(base_is_hub), *_call_lines(prompt, gen, negative=False)])
    gen = {
        "height": 480,
        "width": 832,
        "num_frames": 81,
        "num_inference_steps": 50,
        "guidance_scale": 5.0,
        "fps": 16,
        **(generation or {}),
    }
    from dsr.generation.wan import WAN_NEGATIVE_PROMPT

    q = json.dumps  # double-quoted Python string literals
    rev = f", revision={q(revision)}" if revision else ""
    return "\n".join(
        [
            "import torch",
            "from diffusers import AutoencoderKLWan, WanPipeline",
            "from diffusers.utils import export_to_video",
            "",
            f"base = {q(base_model)}"
            + ("" if base_is_hub else "  # the local folder trained on: give its path"),
            'vae = AutoencoderKLWan.from_pretrained(base, subfolder="vae", dtype=torch.float32)',
            "pipe = WanPipeline.from_pretrained(base, vae=vae, "
            f"dtype=torch.{dtype}).to({q(device)})",
            f"pipe.load_lora_weights({q(adapter)}{rev})",
            f"negative_prompt = {q(WAN_NEGATIVE_PROMPT)}",
            f"prompt = {q(prompt)}",
            "video = pipe(",
            "    prompt=prompt, negative_prompt=negative_prompt,",
            f"    height={gen['height']}, width={gen['width']}, num_frames={gen['num_frames']},",
            f"    num_inference_steps={gen['num_inference_steps']}, "
            f"guidance_scale={gen['guidance_scale']},",
            '    generator=torch.Generator("cpu").manual_seed(0),',
            ").frames[0]",
            f'export_to_video(video, "spatialalign.mp4", fps={gen["fps"]})',
        ]
    )


def _pipeline_lines(
    base_model: str,
    adapter: str,
    revision: str | None,
    family: str,
    pipeline: str,
    device: str,
    dtype: str,
) -> Any:
    """The import / load / adapter lines of a non-Wan family's snippet (a function of whether the
    base is a Hub id)."""
    q = json.dumps
    rev = f", revision={q(revision)}" if revision else ""
    load = (
        f"pipe.transformer.load_lora_adapter({q(adapter)}, "
        f'weight_name="pytorch_lora_weights.safetensors", prefix="transformer"{rev})'
        if family == "hunyuanvideo15"  # diffusers' HunyuanVideo15Pipeline has no LoRA loader
        else f"pipe.load_lora_weights({q(adapter)}{rev})"
    )

    def lines(base_is_hub: bool) -> list[str]:
        return [
            "import torch",
            f"from diffusers import {pipeline}",
            "from diffusers.utils import export_to_video",
            "",
            f"base = {q(base_model)}"
            + ("" if base_is_hub else "  # the local folder trained on: give its path"),
            f"pipe = {pipeline}.from_pretrained(base, dtype=torch.{dtype}).to({q(device)})",
            load,
        ]

    return lines


def _call_lines(prompt: str, gen: dict[str, Any], *, negative: bool) -> list[str]:
    q = json.dumps
    return [
        f"prompt = {q(prompt)}",
        "video = pipe(",
        "    prompt=prompt," + (" negative_prompt=negative_prompt," if negative else ""),
        f"    height={gen['height']}, width={gen['width']}, num_frames={gen['num_frames']},",
        f"    num_inference_steps={gen['num_inference_steps']}, "
        f"guidance_scale={gen['guidance_scale']},",
        '    generator=torch.Generator("cpu").manual_seed(0),',
        ").frames[0]",
        f'export_to_video(video, "spatialalign.mp4", fps={gen["fps"]})',
    ]


def _loader_text(family: str) -> str:
    if family == "hunyuanvideo15":
        return '`pipe.transformer.load_lora_adapter(..., prefix="transformer")`'
    return "`load_lora_weights`"


def _yaml(record: dict[str, Any]) -> str:
    from huggingface_hub import ModelCardData

    dataset = record.get("dataset", {}).get("repo_id")
    data = ModelCardData(
        base_model=None if record.get("base_model_is_local") else record.get("base_model"),
        library_name="diffusers",
        license="apache-2.0",
        pipeline_tag="text-to-video",
        tags=_tags(record.get("family", "wan")),
        datasets=[dataset] if dataset else None,
    )
    return data.to_yaml()


def _tags(family: str) -> list[str]:
    tag = FAMILY_CARD.get(family, FAMILY_CARD["wan"])["tag"]
    return [tag if t == "wan2.1" else t for t in MODEL_TAGS]


def _data_section(record: dict[str, Any]) -> str:
    ds, data = record.get("dataset", {}), record.get("data", {})
    if ds.get("repo_id"):
        where = (
            f"The dataset [{ds['repo_id']}](https://huggingface.co/datasets/{ds['repo_id']}) at "
            f"revision `{ds.get('revision')}` (commit `{ds.get('commit')}`)"
        )
    else:
        where = f"The local dataset folder `{ds.get('local_folder', '?')}` (not published)"
    tau = data.get("tau")
    how = (
        f"re-derived from the samples with τ = {tau:g}"
        if data.get("pairs_rederived")
        else f"as built in the `{record.get('settings', {}).get('pairs_config', 'pairs')}` config"
        + (f" (τ = {tau:g})" if tau is not None else "")
    )
    return (
        f"{where}, split `{record.get('settings', {}).get('split', 'train')}`: "
        f"{data.get('prompts')} prompts with {data.get('winners')} winners and "
        f"{data.get('losers')} losers ({data.get('samples')} videos), winners and losers {how}. "
        "Each step draws, per prompt, one winner and one loser at random."
    )


def _frameworks(record: dict[str, Any]) -> str:
    """The library versions of the run, one per line (as diffusers' and TRL's cards list them)."""
    versions = record.get("frameworks") or {}
    if not versions:
        return "Not recorded (trained with an older dsr)."
    return "\n".join(f"- {name}: {versions[name]}" for name in versions)


def _optimization_section(record: dict[str, Any]) -> str:
    """One paragraph: optimizer, schedule, clipping and timestep precision (empty for records
    written before they were spelled out)."""
    o = record.get("optimization")
    if not o:
        return ""
    text = (
        f"Optimizer {o['optimizer']} (weight decay {o['weight_decay']:g}, betas "
        f"{o['betas'][0]:g}/{o['betas'][1]:g}), peak learning rate {o['learning_rate']:g}; "
    )
    if o.get("cosine_horizon"):
        steps = "step" if o["warmup_steps"] == 1 else "steps"
        text += (
            f"linear warm-up over {o['warmup_steps']} {steps} (0 at the first), then a cosine "
            f"that reaches 0 at step {o['cosine_horizon']}, run for {o['max_steps']} steps"
        )
        if o.get("final_lr_multiplier") is not None:
            text += f" (the last step at {o['final_lr_multiplier']:.3f} of the peak)"
    else:
        text += f"{o['lr_scheduler']} schedule after {o['warmup_steps']} warm-up steps"
    clip = o.get("max_grad_norm")
    text += "; " + (f"gradient norm clipped to {clip:g}" if clip else "no gradient clipping")
    precision = o.get("timestep_dtype", "float32")
    text += f"; conditioning timestep in {precision}"
    if precision == "bfloat16":
        text += " (the authors': 294 distinct noise levels on the 1000-step grid)"
    return "\n\n" + text + "."


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def render_model_card(
    record: dict[str, Any], *, repo_id: str | None = None, version: str | None = None
) -> str:
    """The README.md of an adapter folder; ``repo_id``/``version`` make the snippet load
    it from the Hub."""
    settings = record.get("settings", {})
    family = record.get("family", "wan") if record.get("family") in FAMILY_CARD else "wan"
    template = resources.files("dsr.cards").joinpath("templates/model_card.md").read_text("utf-8")
    base = record.get("base_model_name") or record.get("base_model") or "a Wan2.1 pipeline"
    base_link = (
        f"`{base}` (a local folder)"
        if record.get("base_model_is_local")
        else f"[{base}](https://huggingface.co/{base})"
    )
    finished = record.get("finished", True)
    status = (
        ""
        if finished
        else (
            f"\n\n**Unfinished run:** stopped at step {record.get('global_step')} of "
            f"{settings.get('max_steps')}."
        )
    )
    metrics = record.get("final_metrics", {})
    adapter = repo_id or "path/to/this/folder"
    resolved = record.get("optimization") or {}
    table = {**settings, **({"cosine_horizon": resolved["cosine_horizon"]} if resolved else {})}
    text = template.format(
        paper_title=PAPER_TITLE,
        arxiv_url=ARXIV_URL,
        lora_alpha=_fmt(settings.get("lora_alpha", record.get("lora", {}).get("alpha"))),
        distribution=DISTRIBUTION,
        adapter_ref=adapter + (f"@{version}" if repo_id and version else ""),
        adapter_name=adapter,
        prompts=record.get("dataset", {}).get("repo_id") or "path/to/the/dataset",
        frameworks=_frameworks(record),
        citation=citation_section(),
        yaml=_yaml(record).strip(),
        title=f"SpatialAlign LoRA for {base}",
        lora_rank=settings.get("lora_rank"),
        base_link=base_link,
        status=status,
        snippet=usage_snippet(
            record.get("base_model") or base,
            repo_id or "path/to/this/folder",
            revision=version,
            generation=record.get("generation"),
            base_is_hub=not record.get("base_model_is_local"),
            family=family,
            pipeline=record.get("pipeline", "WanPipeline"),
        ),
        lora_placement=FAMILY_CARD[family]["placement"],
        loader=_loader_text(family),
        scaler="pipe.transformer.set_adapters"
        if family == "hunyuanvideo15"
        else "pipe.set_adapters",
        generator=family,
        n_modules=len(record.get("lora", {}).get("target_modules", [])),
        data_section=_data_section(record),
        hyperparameters="\n".join(
            f"| {label} | {_fmt(table.get(key))} |" for key, label in _TABLE if key in table
        ),
        optimization=_optimization_section(record),
        settings_json=json.dumps(settings, indent=2, sort_keys=True, default=str),
        final_step=record.get("global_step"),
        metrics="\n".join(f"| `{k}` | {_fmt(v)} |" for k, v in sorted(metrics.items()))
        or "| (none logged) | |",
        dsr_version=record.get("dsr_version"),
        format_version=record.get("format_version"),
        pypi_url=PYPI_URL,
        command=record.get("command", ""),
    )
    return mask_secrets(text)
