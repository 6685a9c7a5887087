"""The GitHub workflows' supply-chain and Pages rules, which actionlint does not check."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
PINNED = re.compile(r"^\s*(?:- )?uses: [\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+(\.\d+)*\s*$")


def _steps(workflow: dict) -> list[dict]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_action_is_pinned_by_commit_with_its_tag_named(path: Path) -> None:
    uses = [line for line in path.read_text().splitlines() if re.match(r"^\s*(- )?uses:", line)]
    assert uses
    # a reusable workflow of this repository (`uses: ./.github/...`) runs at the caller's commit
    uses = [line for line in uses if not re.match(r"^\s*(- )?uses: \./\.github/workflows/", line)]
    assert [line for line in uses if not PINNED.match(line)] == []


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_python_and_node_setups_cache_their_downloads(path: Path) -> None:
    for step in _steps(yaml.safe_load(path.read_text())):
        uses = step.get("uses", "")
        if uses.startswith("actions/setup-python@"):
            assert step["with"]["cache"] == "pip"
            assert "requirements.lock" in step["with"]["cache-dependency-path"]
        if uses.startswith("actions/setup-node@"):
            assert step["with"]["cache"] == "npm"
            paths = step["with"]["cache-dependency-path"].split()
            assert paths == ["reports/package-lock.json", "tools/package-lock.json"]
            assert all((REPO / p).is_file() for p in paths)


def test_pages_are_built_in_one_job_and_deployed_by_another() -> None:
    workflow = yaml.safe_load((REPO / ".github/workflows/docs.yml").read_text())
    build, deploy = workflow["jobs"]["build"], workflow["jobs"]["deploy"]
    assert deploy["needs"] == "build"
    # Only the deploy job may write to Pages; the build job runs with the read-only default.
    assert workflow["permissions"] == {"contents": "read"}
    assert "permissions" not in build
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    build_uses = [step.get("uses", "") for step in build["steps"]]
    deploy_uses = [step.get("uses", "") for step in deploy["steps"]]
    assert any(u.startswith("actions/upload-pages-artifact@") for u in build_uses)
    assert [u.split("@")[0] for u in deploy_uses] == ["actions/deploy-pages"]


def test_dependabot_watches_the_actions_and_pip() -> None:
    config = yaml.safe_load((REPO / ".github/dependabot.yml").read_text())
    ecosystems = {update["package-ecosystem"] for update in config["updates"]}
    assert ecosystems == {"github-actions", "pip"}
