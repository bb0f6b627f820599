"""Tiny random CogVideoX, LTX-Video and HunyuanVideo 1.5 pipelines, for tests (Wan's is in
:mod:`dsr.generation.tiny`).

Each builder makes every component of the diffusers pipeline from small configs (transformer, VAE,
text encoder(s) and tokenizer(s), scheduler, and HunyuanVideo 1.5's guider) and writes them with
``save_pretrained``, so the generators and the trainer load the folder through their normal
``from_pretrained`` path, as they load the published checkpoint. Weights are random; the layout,
the compression factors (hence the valid frame sizes and counts) and the scheduler configs are the
real models':

============== ===================== ================= ===================================
family         VAE (time × space)    patch (t, h, w)   valid sizes
============== ===================== ================= ===================================
cogvideox      4 × 8                 2 × 2 × 2 (1.5)   frames 4k+1 (16k+1 for 1.5), h/w ÷ 16
ltx            8 × 32                1 × 1 × 1         frames 8k+1, h/w ÷ 32
hunyuanvideo15 4 × 16                1 × 1 × 1         frames 4k+1, h/w ÷ 16
============== ===================== ================= ===================================
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dsr.generation.tiny import word_tokenizer

__all__ = ["save_tiny_cogvideox", "save_tiny_hunyuanvideo15", "save_tiny_ltx"]

#: Text tokens the tiny CogVideoX transformer is built for (CogVideoX's ``max_text_seq_length``).
COGVIDEOX_TEXT_TOKENS = 226


def _chat_template(system_padding: int = 0) -> str:
    """A Qwen-style chat template (HunyuanVideo 1.5 encodes the prompt as a system + user chat),
    with ``system_padding`` filler tokens after the system message."""
    return (
        "{% for m in messages %}<|im_start|> {{ m['role'] }} {{ m['content'] }}"
        "{% if m['role'] == 'system' %}" + " ." * system_padding + "{% endif %} <|im_end|> "
        "{% endfor %}{% if add_generation_prompt %}<|im_start|> assistant {% endif %}"
    )


def _match_chat_prefix(pipe: Any) -> None:
    """Pad the tiny template's system turn so that the user's words start exactly where the
    pipeline crops the chat (``prompt_template_encode_start_idx``, 108 tokens of the real Qwen
    template): else every prompt token is cropped away, masked, and the text gets no gradient."""
    tokenizer = pipe.tokenizer
    tokenizer.chat_template = _chat_template()
    turn = [{"role": "system", "content": pipe.system_message}, {"role": "user", "content": ""}]
    text = tokenizer.apply_chat_template(turn, tokenize=False)
    head = text[: text.rindex("<|im_end|>")]  # the chat up to the user's (empty) words
    missing = pipe.prompt_template_encode_start_idx - len(tokenizer(head)["input_ids"])
    assert missing >= 0, f"the tiny chat template is {-missing} tokens too long"
    tokenizer.chat_template = _chat_template(missing)


def _t5_encoder(vocab_size: int, d_model: int) -> Any:
    from transformers import T5Config, T5EncoderModel

    config = T5Config(
        vocab_size=vocab_size,
        d_model=d_model,
        d_kv=8,
        d_ff=32,
        num_layers=1,
        num_heads=2,
        relative_attention_num_buckets=8,
    )
    return T5EncoderModel(config).eval()


def _save(pipe: Any, path: str | Path) -> Path:
    out = Path(path)
    pipe.save_pretrained(out)
    return out


def save_tiny_cogvideox(path: str | Path, *, seed: int = 0, num_layers: int = 2) -> Path:
    """Write a tiny random ``CogVideoXPipeline`` shaped like CogVideoX1.5-5B (rotary positions,
    temporal patch 2, v-prediction ``CogVideoXDPMScheduler``); returns the path."""
    import torch
    from diffusers import (
        AutoencoderKLCogVideoX,
        CogVideoXDPMScheduler,
        CogVideoXPipeline,
        CogVideoXTransformer3DModel,
    )

    torch.manual_seed(seed)
    tokenizer = word_tokenizer()
    transformer = CogVideoXTransformer3DModel(
        num_attention_heads=2,
        attention_head_dim=16,
        in_channels=4,
        out_channels=4,
        time_embed_dim=8,
        text_embed_dim=16,
        num_layers=num_layers,
        sample_width=4,
        sample_height=4,
        sample_frames=17,
        patch_size=2,
        patch_size_t=2,
        patch_bias=False,
        temporal_compression_ratio=4,
        max_text_seq_length=COGVIDEOX_TEXT_TOKENS,
        use_rotary_positional_embeddings=True,
        use_learned_positional_embeddings=False,
    )
    block = "CogVideoXDownBlock3D"
    vae = AutoencoderKLCogVideoX(
        down_block_types=(block,) * 4,
        up_block_types=("CogVideoXUpBlock3D",) * 4,
        block_out_channels=(8, 8, 8, 8),
        latent_channels=4,
        layers_per_block=1,
        norm_num_groups=2,
        temporal_compression_ratio=4,
    )
    # The published 1.5-5B scheduler config (scheduler/scheduler_config.json).
    scheduler = CogVideoXDPMScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        clip_sample=False,
        prediction_type="v_prediction",
        rescale_betas_zero_snr=True,
        set_alpha_to_one=True,
        snr_shift_scale=1.0,
        timestep_spacing="trailing",
    )
    pipe = CogVideoXPipeline(
        tokenizer=tokenizer,
        text_encoder=_t5_encoder(len(tokenizer), 16),
        transformer=transformer.eval(),
        vae=vae.eval(),
        scheduler=scheduler,
    )
    return _save(pipe, path)


def save_tiny_ltx(path: str | Path, *, seed: int = 0, num_layers: int = 2) -> Path:
    """Write a tiny random ``LTXPipeline`` shaped like LTX-Video 2B (VAE 8× in time, 32× in space,
    patch 1, dynamically shifted flow-matching Euler); returns the path."""
    import torch
    from diffusers import (
        AutoencoderKLLTXVideo,
        FlowMatchEulerDiscreteScheduler,
        LTXPipeline,
        LTXVideoTransformer3DModel,
    )

    torch.manual_seed(seed)
    tokenizer = word_tokenizer()
    transformer = LTXVideoTransformer3DModel(
        in_channels=8,
        out_channels=8,
        patch_size=1,
        patch_size_t=1,
        num_attention_heads=2,
        attention_head_dim=8,
        cross_attention_dim=16,
        num_layers=num_layers,
        caption_channels=16,
    )
    vae = AutoencoderKLLTXVideo(
        latent_channels=8,
        block_out_channels=(8, 8, 8, 8),
        decoder_block_out_channels=(8, 8, 8, 8),
        layers_per_block=(1, 1, 1, 1, 1),
        decoder_layers_per_block=(1, 1, 1, 1, 1),
        spatio_temporal_scaling=(True, True, True, False),
        decoder_spatio_temporal_scaling=(True, True, True, False),
        patch_size=4,
        patch_size_t=1,
    )
    # The published LTX-Video scheduler config (scheduler/scheduler_config.json).
    scheduler = FlowMatchEulerDiscreteScheduler(
        base_image_seq_len=1024,
        base_shift=0.95,
        max_image_seq_len=4096,
        max_shift=2.05,
        shift=1.0,
        shift_terminal=0.1,
        use_dynamic_shifting=True,
        time_shift_type="exponential",
    )
    pipe = LTXPipeline(
        tokenizer=tokenizer,
        text_encoder=_t5_encoder(len(tokenizer), 16),
        transformer=transformer.eval(),
        vae=vae.eval(),
        scheduler=scheduler,
    )
    return _save(pipe, path)


def _qwen_text_encoder(vocab_size: int, hidden: int) -> Any:
    from transformers import Qwen2_5_VLTextConfig, Qwen2_5_VLTextModel

    config = Qwen2_5_VLTextConfig(
        vocab_size=vocab_size,
        hidden_size=hidden,
        intermediate_size=32,
        num_hidden_layers=3,
        num_attention_heads=2,
        num_key_value_heads=2,
        rope_parameters={"mrope_section": [1, 1, 2], "rope_type": "default", "rope_theta": 1e6},
        bos_token_id=None,
        eos_token_id=1,
        pad_token_id=0,
    )
    return Qwen2_5_VLTextModel(config).eval()


def save_tiny_hunyuanvideo15(path: str | Path, *, seed: int = 0, num_layers: int = 2) -> Path:
    """Write a tiny random ``HunyuanVideo15Pipeline`` shaped like HunyuanVideo-1.5 480p T2V (Qwen
    chat text encoder + ByT5 glyph encoder, VAE 4× in time and 16× in space, patch 1); returns the
    path."""
    import torch
    from diffusers import (
        AutoencoderKLHunyuanVideo15,
        FlowMatchEulerDiscreteScheduler,
        HunyuanVideo15Pipeline,
        HunyuanVideo15Transformer3DModel,
    )
    from diffusers.guiders import ClassifierFreeGuidance
    from transformers import ByT5Tokenizer

    torch.manual_seed(seed)
    tokenizer = word_tokenizer(specials=("<|im_start|>", "<|im_end|>"))
    tokenizer_2 = ByT5Tokenizer()
    transformer = HunyuanVideo15Transformer3DModel(
        in_channels=4 * 2 + 1,  # latents, conditioning latents, mask
        out_channels=4,
        num_attention_heads=2,
        attention_head_dim=8,
        num_layers=num_layers,
        num_refiner_layers=1,
        mlp_ratio=2.0,
        text_embed_dim=16,
        text_embed_2_dim=16,
        image_embed_dim=8,
        rope_axes_dim=(2, 2, 4),
        target_size=32,
        task_type="t2v",
    )
    vae = AutoencoderKLHunyuanVideo15(
        latent_channels=4,
        block_out_channels=(8, 8, 8, 8, 8),
        layers_per_block=1,
        spatial_compression_ratio=16,
        temporal_compression_ratio=4,
    )
    pipe = HunyuanVideo15Pipeline(
        tokenizer=tokenizer,
        text_encoder=_qwen_text_encoder(len(tokenizer), 16),
        tokenizer_2=tokenizer_2,
        text_encoder_2=_t5_encoder(len(tokenizer_2), 16),
        transformer=transformer.eval(),
        vae=vae.eval(),
        scheduler=FlowMatchEulerDiscreteScheduler(shift=5.0),
        guider=ClassifierFreeGuidance(guidance_scale=6.0),
    )
    _match_chat_prefix(pipe)
    return _save(pipe, path)
