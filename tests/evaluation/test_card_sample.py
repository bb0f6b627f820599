"""``dsr eval --model-card`` shows the evaluated video with the best DSR-Score as a GIF in the card
and in the Hub widget of its YAML header."""

from __future__ import annotations

import io
from pathlib import Path

from click.testing import CliRunner
from markup import details_closed

from dsr.cli import main


def test_model_card_gets_the_best_sample_as_a_gif(tmp_path: Path) -> None:
    from huggingface_hub import ModelCard
    from PIL import Image

    from dsr.builders.prompts import PromptBuildConfig, build_prompts
    from dsr.builders.videos import VideoBuildConfig, build_videos

    data = tmp_path / "ds"
    build_prompts(PromptBuildConfig(out=data, backend="template", n_train=6, n_test=6, seed=0))
    video = {"num_frames": 24, "height": 48, "width": 64, "fps": 8, "scenario": "cycle"}
    build_videos(
        VideoBuildConfig(
            prompts=str(data),
            out=str(data),
            split="test",
            generator="synthetic",
            generator_options=video,
            tracker="annotations",
            seeds=(0, 1),
        )
    )
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "README.md").write_text("---\nlibrary_name: diffusers\n---\n\n# adapter\n")
    args = ["eval", str(data), "--metrics", "dsr", "--out", str(tmp_path / "e")]
    result = CliRunner().invoke(main, [*args, "--n-resamples", "50", "--model-card", str(adapter)])
    assert result.exit_code == 0, result.output
    gif = Image.open(io.BytesIO((adapter / "assets" / "eval_sample.gif").read_bytes()))
    assert gif.format == "GIF" and gif.n_frames == 24 and gif.size == (64, 48)
    card = ModelCard.load(adapter / "README.md")
    (widget,) = card.data.widget
    assert widget["output"]["url"] == "assets/eval_sample.gif"
    assert ", then the " in widget["text"]  # a dataset prompt: the one the GIF was made from
    assert "![" in card.text and "(assets/eval_sample.gif)" in card.text
    details_closed(card.content)
