"""The loopback test Hub answers the real huggingface_hub and datasets clients."""

from __future__ import annotations

import pytest


def _write_config(root, rows):
    import datasets

    (root / "p").mkdir(parents=True, exist_ok=True)
    (root / "README.md").write_text(
        "---\nconfigs:\n- config_name: p\n  data_files:\n  - split: train\n"
        "    path: p/train-*.parquet\n---\n# test\n"
    )
    datasets.Dataset.from_dict({"a": rows}).to_parquet(str(root / "p/train-00000-of-00001.parquet"))


def test_upload_tag_and_load_old_revision(hub, tmp_path):
    import datasets
    from huggingface_hub import HfApi

    api = HfApi(token=hub.token)
    puts_before = hub.count("PUT", "/lfs-upload/")
    api.create_repo("tester/server-smoke", repo_type="dataset")
    _write_config(tmp_path, ["x", "y"])
    first = api.upload_folder(
        folder_path=tmp_path, repo_id="tester/server-smoke", repo_type="dataset"
    )
    api.create_tag("tester/server-smoke", tag="v1", revision=first.oid, repo_type="dataset")
    _write_config(tmp_path, ["z"])
    api.upload_folder(folder_path=tmp_path, repo_id="tester/server-smoke", repo_type="dataset")

    assert hub.tags("tester/server-smoke") == {"v1": first.oid}
    assert datasets.load_dataset("tester/server-smoke", "p", revision="v1")["train"]["a"] == [
        "x",
        "y",
    ]
    assert datasets.load_dataset("tester/server-smoke", "p")["train"]["a"] == ["z"]
    assert hub.count("PUT", "/lfs-upload/") - puts_before == 2


def test_refuses_writes_without_token_and_existing_tags(hub, tmp_path):
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError

    api = HfApi(token=hub.token)
    api.create_repo("tester/server-refuse", repo_type="dataset")
    api.create_tag("tester/server-refuse", tag="v1", repo_type="dataset")
    with pytest.raises(HfHubHTTPError) as err:
        api.create_tag("tester/server-refuse", tag="v1", repo_type="dataset")
    assert err.value.response.status_code == 409
    with pytest.raises(HfHubHTTPError):
        HfApi(token="hf_wrongwrongwrong").create_repo("tester/other", repo_type="dataset")


def test_stale_parent_commit_is_refused(hub):
    from huggingface_hub import CommitOperationAdd, HfApi
    from huggingface_hub.errors import HfHubHTTPError

    api = HfApi(token=hub.token)
    api.create_repo("tester/server-stale", repo_type="dataset")
    parent = hub.head("tester/server-stale")
    api.create_commit(
        "tester/server-stale",
        [CommitOperationAdd("a.txt", b"1")],
        commit_message="a",
        repo_type="dataset",
        parent_commit=parent,
    )
    with pytest.raises(HfHubHTTPError) as err:
        api.create_commit(
            "tester/server-stale",
            [CommitOperationAdd("b.txt", b"2")],
            commit_message="b",
            repo_type="dataset",
            parent_commit=parent,
        )
    assert err.value.response.status_code == 412


def test_push_to_hub_of_two_configs(hub, hub_token):
    import datasets

    ds = datasets.Dataset.from_dict({"a": ["x", "y"], "b": [1, 2]})
    ds.push_to_hub("tester/server-push", config_name="c1")
    ds.push_to_hub("tester/server-push", config_name="c2")
    assert datasets.load_dataset("tester/server-push", "c1")["train"]["b"] == [1, 2]
    assert {"c1/train-00000-of-00001.parquet", "c2/train-00000-of-00001.parquet"} <= set(
        hub.files("tester/server-push")
    )
