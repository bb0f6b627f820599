"""Tiny random checkpoints of the tracking models, for tests, demos and benchmarks.

Each ``save_tiny_*`` builds a model from a small config, with the processor it needs, and writes
both with ``save_pretrained``; the trackers then load them through their normal
``from_pretrained`` path. They run on a CPU in well under a second per frame. Their outputs are
random; the only deliberate choices are the ones that make them *run*:

- Grounding DINO: a BERT vocabulary that keeps bert-base's ids for [CLS]=101, [SEP]=102, "."=1012
  and "?"=1029 (the model hard-codes them), at least 2 decoder layers.
- SAM2 video: ``memory_encoder_output_channels=64`` and a hidden size that is a multiple of 64
  above 64; ``object_present=True`` biases the object-score head so masks are not all empty.
- SAM3 video: ``hotstart_delay=0`` so short clips emit masks; one query per prompt.
- Depth Anything: a 4-layer DINOv2 backbone of width 32 (patch 14) and a 56-pixel input.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

__all__ = [
    "TINY_WORDS",
    "save_tiny_depth_anything",
    "save_tiny_grounding_dino",
    "save_tiny_sam2_video",
    "save_tiny_sam3_video",
]

#: Words the tiny Grounding DINO vocabulary knows (the paper's animals and objects, and a few more).
TINY_WORDS = (
    "rabbit",
    "hamster",
    "squirrel",
    "cat",
    "dog",
    "fox",
    "duck",
    "bird",
    "stump",
    "rock",
    "bench",
    "chair",
    "crate",
    "sofa",
    "basket",
    "stone",
    "pot",
    "box",
    "stool",
    "cushion",
    "red",
    "a",
    "the",
)


def _bert_vocab(words: tuple[str, ...]) -> dict[str, int]:
    special = {
        0: "[PAD]",
        100: "[UNK]",
        101: "[CLS]",
        102: "[SEP]",
        103: "[MASK]",
        1012: ".",
        1029: "?",
    }
    tokens = [special.get(i, f"[unused{i}]") for i in range(1030)] + list(words)
    return {tok: i for i, tok in enumerate(tokens)}


def save_tiny_grounding_dino(
    path: str | Path,
    *,
    seed: int = 0,
    image_size: int = 128,
    script: tuple[str, dict[str, tuple[float, float, float, float]]] | None = None,
) -> Path:
    """A random Grounding DINO (~0.3 M parameters) with its processor, saved at ``path``.

    ``script=(text, boxes)`` sets its heads so that, for ``text``, it detects every entry of
    ``boxes`` (phrase → xyxy as fractions of the frame) on every frame and nothing else
    (see :func:`_script_grounding_dino`).
    """
    import torch
    from transformers import (
        BertConfig,
        BertTokenizer,
        GroundingDinoConfig,
        GroundingDinoForObjectDetection,
        GroundingDinoImageProcessor,
        GroundingDinoProcessor,
        SwinConfig,
    )

    vocab = _bert_vocab(TINY_WORDS)
    backbone = SwinConfig(
        image_size=image_size,
        patch_size=4,
        embed_dim=16,
        depths=[1, 1, 1, 1],
        num_heads=[1, 1, 2, 2],
        window_size=4,
    )
    backbone.out_indices = [2, 3, 4]  # a backbone property: sets out_features too
    text = BertConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=37,
        max_position_embeddings=64,
    )
    config = GroundingDinoConfig(
        backbone_config=backbone,
        text_config=text,
        d_model=32,
        encoder_layers=1,
        decoder_layers=2,
        encoder_ffn_dim=32,
        decoder_ffn_dim=32,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        num_queries=20,
        num_feature_levels=4,
        encoder_n_points=2,
        decoder_n_points=2,
        max_text_len=32,
    )
    torch.manual_seed(seed)
    model = GroundingDinoForObjectDetection(config).eval()
    size = {"shortest_edge": image_size, "longest_edge": image_size}
    processor = GroundingDinoProcessor(
        GroundingDinoImageProcessor(size=size), BertTokenizer(vocab=vocab)
    )
    if script is not None:
        _script_grounding_dino(model, processor, *script, image_size=image_size)
    return _save(model, processor, path)


def _script_grounding_dino(
    model: Any,
    processor: Any,
    text: str,
    boxes: dict[str, tuple[float, float, float, float]],
    *,
    image_size: int,
    logit: float = 4.0,
) -> None:
    """Set a random Grounding DINO's weights so that its detections for ``text`` are ``boxes``.

    Class logits are dot products of the decoder's query states with the encoder's text states;
    boxes are the box head's output added to the logit of the reference box. Zeroing every decoder
    sub-layer's output projection leaves query ``q``'s state equal to its (layer-normed) learned
    embedding, whatever the image; zeroing the image→text fusion makes the text states independent
    of the image. Query ``i`` then gets the embedding that scores ``+logit`` on the tokens of the
    ``i``-th phrase and ``-logit`` elsewhere (every other query: ``-logit`` everywhere). A huge
    negative bias on the encoder's proposal box head pins every reference box to logit(1e-5), and a
    linear box head (identity hidden layers) maps each scripted query to its box.
    """
    import numpy as np
    import torch

    tokens = processor.tokenizer.convert_ids_to_tokens(processor.tokenizer(text)["input_ids"])
    wanted = []
    for phrase in boxes:
        hits = [i for i, tok in enumerate(tokens) if tok in phrase.split()]
        if not hits:
            raise ValueError(f"phrase {phrase!r} has no token in {text!r} ({tokens})")
        wanted.append(hits)
    inner, decoder = model.model, model.model.decoder
    n = len(tokens)
    with torch.no_grad():
        for layer in decoder.layers:
            for lin in (
                layer.self_attn.out_proj,
                layer.encoder_attn_text.out_proj,
                layer.encoder_attn.output_proj,
                layer.fc2,
            ):
                lin.weight.zero_()
                lin.bias.zero_()
        for layer in inner.encoder.layers:
            layer.fusion_layer.text_param.zero_()
        inner.encoder_output_bbox_embed.layers[-1].weight.zero_()
        inner.encoder_output_bbox_embed.layers[-1].bias.fill_(-1e3)
        frame = np.zeros((image_size, image_size, 3), np.uint8)
        feats = model(
            **processor(images=[frame], text=[text], return_tensors="pt")
        ).encoder_last_hidden_state_text[0]
        centred = (
            feats - feats.mean(-1, keepdim=True)
        ).double()  # a layer-normed state is zero-mean
        signs = -torch.ones(len(wanted) + 1, n, dtype=torch.float64)
        for q, hits in enumerate(wanted):
            signs[q, hits] = 1.0
        states = torch.linalg.lstsq(
            centred, signs.T, driver="gelsd"
        ).solution.T  # (queries, d), zero-mean
        states = states / states.std(
            dim=-1, unbiased=False, keepdim=True
        )  # fixed points of LayerNorm
        margin = (states @ centred.T * signs).min()
        scale = logit / float(margin)
        decoder.layer_norm.weight.fill_(scale)
        decoder.layer_norm.bias.zero_()
        embeds = inner.query_position_embeddings.weight
        embeds.copy_(states[-1].to(embeds.dtype).expand_as(embeds))
        embeds[: len(wanted)] = states[:-1].to(embeds.dtype)
        head = model.bbox_embed[0]  # shared by every decoder level
        for lin in head.layers[:-1]:
            lin.weight.copy_(torch.eye(lin.weight.shape[0]))
            lin.bias.zero_()
        # final box logit = scale·Δ + logit(sigmoid(Δ + logit(1e-5))) = (scale + 1)·Δ + logit(1e-5)
        eps_logit = float(torch.special.logit(torch.tensor(1e-5, dtype=torch.float64)))
        target = torch.tensor([_cxcywh(box) for box in boxes.values()], dtype=torch.float64)
        delta = (torch.special.logit(target) - eps_logit) / (scale + 1.0)
        hidden = states[:-1].clamp(min=0.0)
        head.layers[-1].weight.copy_((torch.linalg.pinv(hidden) @ delta).T.to(embeds.dtype))
        head.layers[-1].bias.zero_()


def _cxcywh(box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    x1, y1, x2, y2 = box
    if not 0.0 < x1 < x2 < 1.0 or not 0.0 < y1 < y2 < 1.0:
        raise ValueError(f"box {box} must be xyxy fractions strictly inside (0, 1)")
    return ((x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1)


def _sam2_like_memory(hidden: int, grid: int) -> dict[str, Any]:
    """Small memory-attention/encoder settings shared by the SAM2 and SAM3 trackers."""
    return dict(
        num_maskmem=3,
        memory_attention_hidden_size=hidden,
        memory_attention_num_layers=1,
        memory_attention_feed_forward_hidden_size=64,
        memory_attention_rope_feat_sizes=[grid, grid],
        memory_encoder_hidden_size=hidden,
        memory_encoder_output_channels=64,
        mask_downsampler_embed_dim=hidden,
        memory_fuser_num_layers=1,
        memory_fuser_embed_dim=hidden,
        memory_fuser_intermediate_dim=64,
    )


def save_tiny_sam2_video(path: str | Path, *, seed: int = 0, object_present: bool = True) -> Path:
    """A random SAM2 video model (~1 M parameters, 128×128 input) with its processor."""
    import torch
    from transformers import (
        Sam2HieraDetConfig,
        Sam2ImageProcessor,
        Sam2VideoConfig,
        Sam2VideoModel,
        Sam2VideoProcessor,
        Sam2VideoVideoProcessor,
        Sam2VisionConfig,
    )
    from transformers.models.sam2_video.configuration_sam2_video import (
        Sam2VideoMaskDecoderConfig,
        Sam2VideoPromptEncoderConfig,
    )

    size, hidden = 128, 128
    backbone = Sam2HieraDetConfig(
        hidden_size=16,
        num_attention_heads=1,
        image_size=[size, size],
        patch_kernel_size=[7, 7],
        patch_stride=[4, 4],
        patch_padding=[3, 3],
        query_stride=[2, 2],
        window_positional_embedding_background_size=[4, 4],
        num_query_pool_stages=3,
        blocks_per_stage=[1, 1, 2, 1],
        embed_dim_per_stage=[16, 32, 64, 128],
        num_attention_heads_per_stage=[1, 1, 1, 1],
        window_size_per_stage=[4, 4, 4, 4],
        global_attention_blocks=[3],
    )
    vision = Sam2VisionConfig(
        backbone_config=backbone,
        backbone_channel_list=[128, 64, 32, 16],
        backbone_feature_sizes=[[32, 32], [16, 16], [8, 8]],
        fpn_hidden_size=hidden,
    )
    config = Sam2VideoConfig(
        vision_config=vision,
        image_size=size,
        prompt_encoder_config=Sam2VideoPromptEncoderConfig(
            hidden_size=hidden, image_size=size, patch_size=16, mask_input_channels=4
        ),
        mask_decoder_config=Sam2VideoMaskDecoderConfig(
            hidden_size=hidden,
            mlp_dim=64,
            num_hidden_layers=1,
            num_attention_heads=2,
            iou_head_hidden_dim=32,
        ),
        **_sam2_like_memory(hidden, 8),
    )
    torch.manual_seed(seed)
    model = Sam2VideoModel(config).eval()
    if object_present:
        with torch.no_grad():
            model.mask_decoder.pred_obj_score_head.proj_out.bias.fill_(10.0)
    resize = {"height": size, "width": size}
    processor = Sam2VideoProcessor(
        Sam2ImageProcessor(size=resize), Sam2VideoVideoProcessor(size=resize)
    )
    return _save(model, processor, path)


def save_tiny_sam3_video(path: str | Path, *, seed: int = 0) -> Path:
    """A random SAM3 video model (~4 M parameters, 112×112 input) with its processor."""
    import torch
    from transformers import (
        CLIPTextConfig,
        CLIPTokenizer,
        Sam2VideoVideoProcessor,
        Sam3Config,
        Sam3ImageProcessor,
        Sam3TrackerVideoConfig,
        Sam3VideoConfig,
        Sam3VideoModel,
        Sam3VideoProcessor,
        Sam3VisionConfig,
        Sam3ViTConfig,
    )
    from transformers.models.sam3.configuration_sam3 import (
        Sam3DETRDecoderConfig,
        Sam3DETREncoderConfig,
        Sam3GeometryEncoderConfig,
        Sam3MaskDecoderConfig,
    )
    from transformers.models.sam3_tracker_video.configuration_sam3_tracker_video import (
        Sam3TrackerVideoMaskDecoderConfig,
        Sam3TrackerVideoPromptEncoderConfig,
    )

    size, patch, hidden = 112, 14, 128
    grid = size // patch
    vit = Sam3ViTConfig(
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        image_size=size,
        patch_size=patch,
        window_size=4,
        global_attn_indexes=[1],
        pretrain_image_size=size,
    )
    vision = Sam3VisionConfig(
        backbone_config=vit,
        fpn_hidden_size=hidden,
        backbone_feature_sizes=[[4 * grid, 4 * grid], [2 * grid, 2 * grid], [grid, grid]],
    )
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for ch in [chr(c) for c in range(ord("a"), ord("z") + 1)] + ["."]:
        vocab.setdefault(ch, len(vocab))
        vocab.setdefault(ch + "</w>", len(vocab))
    text = CLIPTextConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        intermediate_size=64,
        projection_dim=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        max_position_embeddings=32,
        bos_token_id=0,
        eos_token_id=1,
        pad_token_id=1,
    )
    small: dict[str, Any] = dict(hidden_size=hidden, num_attention_heads=2, intermediate_size=64)
    detector = Sam3Config(
        vision_config=vision,
        text_config=text,
        geometry_encoder_config=Sam3GeometryEncoderConfig(num_layers=1, **small),
        detr_encoder_config=Sam3DETREncoderConfig(num_layers=1, **small),
        detr_decoder_config=Sam3DETRDecoderConfig(num_layers=1, num_queries=1, **small),
        mask_decoder_config=Sam3MaskDecoderConfig(
            hidden_size=hidden, num_upsampling_stages=3, num_attention_heads=2
        ),
    )
    tracker = Sam3TrackerVideoConfig(
        vision_config=vision,
        prompt_encoder_config=Sam3TrackerVideoPromptEncoderConfig(
            hidden_size=hidden, image_size=size, patch_size=patch, mask_input_channels=4
        ),
        mask_decoder_config=Sam3TrackerVideoMaskDecoderConfig(
            hidden_size=hidden,
            mlp_dim=64,
            num_hidden_layers=1,
            num_attention_heads=2,
            iou_head_hidden_dim=32,
        ),
        **_sam2_like_memory(hidden, grid),
    )
    tracker.image_size = (
        size  # a property (not an __init__ argument) that also sizes the vision config
    )
    config = Sam3VideoConfig(
        detector_config=detector,
        tracker_config=tracker,
        hotstart_delay=0,
        low_res_mask_size=4 * grid,
        score_threshold_detection=0.0,
        new_det_thresh=0.0,
    )
    torch.manual_seed(seed)
    model = Sam3VideoModel(config).eval()
    processor = Sam3VideoProcessor(
        Sam3ImageProcessor(
            size={"height": size, "width": size}, mask_size={"height": 4 * grid, "width": 4 * grid}
        ),
        Sam2VideoVideoProcessor(size={"height": size, "width": size}),
        CLIPTokenizer(vocab=vocab, merges=[]),
    )
    return _save(model, processor, path)


class _Pretrained(Protocol):
    """A transformers model or processor."""

    def save_pretrained(self, save_directory: str | Path) -> Any: ...


def _save(model: _Pretrained, processor: _Pretrained, path: str | Path) -> Path:
    out = Path(path)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    processor.save_pretrained(out)
    return out


def save_tiny_depth_anything(path: str | Path, *, seed: int = 0) -> Path:
    """A random ``DepthAnythingForDepthEstimation`` (about 140 k parameters) with Depth Anything's
    image processor (a DPT processor, 56-pixel input)."""
    import torch
    from transformers import (
        DepthAnythingConfig,
        DepthAnythingForDepthEstimation,
        Dinov2Config,
        DPTImageProcessor,
    )

    torch.manual_seed(seed)
    backbone_options: dict[str, Any] = {  # the four stages the neck reassembles
        "out_features": ["stage1", "stage2", "stage3", "stage4"],
        "reshape_hidden_states": False,
    }
    backbone = Dinov2Config(
        hidden_size=32,
        num_hidden_layers=4,
        num_attention_heads=2,
        mlp_ratio=2,
        image_size=56,
        patch_size=14,
        **backbone_options,
    )
    config = DepthAnythingConfig(
        backbone_config=backbone,
        reassemble_hidden_size=32,
        patch_size=14,
        neck_hidden_sizes=[8, 16, 32, 32],
        fusion_hidden_size=16,
        head_hidden_size=8,
        depth_estimation_type="relative",
    )
    processor = DPTImageProcessor(
        size={"height": 56, "width": 56}, keep_aspect_ratio=True, ensure_multiple_of=14
    )
    return _save(DepthAnythingForDepthEstimation(config).eval(), processor, path)
