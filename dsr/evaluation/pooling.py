"""The pooled outputs the model metrics read, computed without the work nobody reads.

Both metrics keep one vector per image: DINOv2's CLS token after the final norm
(``pooler_output``), and the CLIP ResNet's attention-pool output, which is its query at the mean
token. In the last transformer block (DINOv2) and in the attention pool (CLIP) every other token's
query, attention row, output projection and MLP are computed and then thrown away; here only the
pooled token's are (the keys and values of every token are still computed). The arithmetic of the
kept token is the model's own, so the values equal the full forward's up to float rounding (the
tests compare both); it saves ≈ 8 % of DINOv2 ViT-B/14's FLOPs at 518 px and ≈ 6 % of the CLIP
RN50's at 480×832. Models of another structure run their full forward.
"""

from __future__ import annotations

from typing import Any

__all__ = ["dinov2_cls", "piq_clip_image_features"]


def _is_plain_dinov2(model: Any) -> bool:
    """Transformers' ``Dinov2Model`` in eval mode, whose layers are the pre-norm blocks read
    below (drop path and dropout are identities in eval mode)."""
    return (
        type(model).__name__ == "Dinov2Model"
        and not model.training
        and all(
            hasattr(layer, name)
            for layer in model.encoder.layer
            for name in ("norm1", "attention", "layer_scale1", "norm2", "mlp", "layer_scale2")
        )
        and all(
            hasattr(model.encoder.layer[-1].attention, name)
            for name in ("q_proj", "k_proj", "v_proj", "o_proj", "scaling", "head_dim")
        )
    )


def dinov2_cls(model: Any, pixels: Any) -> Any:
    """``model(pixel_values=pixels).pooler_output`` (batch, hidden): every block but the last as
    the model runs it, then the last block for the CLS token only."""
    import torch.nn.functional as F

    if not _is_plain_dinov2(model):
        return model(pixel_values=pixels).pooler_output
    hidden = model.embeddings(pixels)
    for layer in model.encoder.layer[:-1]:
        hidden = layer(hidden, None)
    last = model.encoder.layer[-1]
    att = last.attention
    x = last.norm1(hidden)
    batch, tokens, _ = x.shape

    def heads(t: Any) -> Any:
        return t.view(batch, t.shape[1], -1, att.head_dim).transpose(1, 2)

    q, k, v = heads(att.q_proj(x[:, :1])), heads(att.k_proj(x)), heads(att.v_proj(x))
    out = F.scaled_dot_product_attention(q, k, v, scale=att.scaling)
    cls = hidden[:, :1] + last.layer_scale1(att.o_proj(out.transpose(1, 2).reshape(batch, 1, -1)))
    cls = cls + last.layer_scale2(last.mlp(last.norm2(cls)))
    return model.layernorm(cls)[:, 0]


def _resnet_trunk(visual: Any, x: Any) -> Any:
    """piq's ``ModifiedResNet`` up to its attention pool: three stem convolutions, average pool,
    the four stages."""
    x = x.type(visual.conv1.weight.dtype)
    for i in (1, 2, 3):
        x = visual.relu(getattr(visual, f"bn{i}")(getattr(visual, f"conv{i}")(x)))
    x = visual.avgpool(x)
    for stage in (visual.layer1, visual.layer2, visual.layer3, visual.layer4):
        x = stage(x)
    return x


def piq_clip_image_features(model: Any, images: Any) -> Any:
    """``model.encode_image(images, pos_embedding=False)`` of piq's CLIP ResNet (batch, embed):
    the attention pool's query is the mean token only (the pool returns only that token)."""
    import torch
    import torch.nn.functional as F

    visual = model.visual
    if not hasattr(visual, "attnpool") or not hasattr(visual, "layer4"):
        return model.encode_image(images, pos_embedding=False)
    x = _resnet_trunk(visual, images.type(model.dtype))
    pool = visual.attnpool
    batch, channels = x.shape[:2]
    tokens = x.flatten(2).transpose(1, 2)  # (batch, HW, C)
    tokens = torch.cat([tokens.mean(dim=1, keepdim=True), tokens], dim=1)
    head_dim = channels // pool.num_heads

    def heads(t: Any) -> Any:
        return t.view(batch, t.shape[1], pool.num_heads, head_dim).transpose(1, 2)

    q = heads(F.linear(tokens[:, :1], pool.q_proj.weight, pool.q_proj.bias))
    k = heads(F.linear(tokens, pool.k_proj.weight, pool.k_proj.bias))
    v = heads(F.linear(tokens, pool.v_proj.weight, pool.v_proj.bias))
    out = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(batch, channels)
    return F.linear(out, pool.c_proj.weight, pool.c_proj.bias)
