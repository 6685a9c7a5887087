"""The hashed locks agree with pyproject.toml (`make lock` writes them, `make setup` installs them).

pip's --require-hashes refuses a lock line without a hash, but it would not notice a dependency
pyproject.toml gained and the lock lacks (the project is installed with --no-deps), nor a runtime
lock that pins another version than the dev lock `make setup` installs.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
RUNTIME_LOCK = ROOT / "requirements.lock"
DEV_LOCK = ROOT / "requirements-dev.lock"
HASH = re.compile(r"--hash=sha256:[0-9a-f]{64}")


def lock_entries(path: Path) -> dict[str, tuple[str, list[str]]]:
    """Package name -> (pinned version, hashes), from a pip requirements file with hashes."""
    text = re.sub(r"\\\n", " ", path.read_text())  # join the continuation lines
    entries: dict[str, tuple[str, list[str]]] = {}
    for line in text.splitlines():
        line = line.split(" #", 1)[0].strip()  # a hash holds no '#'
        if not line or line.startswith("#"):
            continue
        spec, *options = line.split(" --hash=")
        requirement = Requirement(spec.strip())
        pins = [s for s in requirement.specifier if s.operator == "=="]
        assert len(pins) == 1, f"{path.name}: {spec.strip()!r} is not pinned with =="
        hashes = ["--hash=" + option.strip() for option in options]
        entries[canonicalize_name(requirement.name)] = (pins[0].version, hashes)
    return entries


@pytest.fixture(scope="module")
def runtime() -> dict[str, tuple[str, list[str]]]:
    return lock_entries(RUNTIME_LOCK)


@pytest.fixture(scope="module")
def dev() -> dict[str, tuple[str, list[str]]]:
    return lock_entries(DEV_LOCK)


def test_lock_reader_sees_a_missing_hash(tmp_path: Path) -> None:
    lock = tmp_path / "requirements.lock"
    lock.write_text("six==1.16.0 \\\n    --hash=sha256:" + "0" * 64 + "\nidna==3.10\n")
    entries = lock_entries(lock)
    assert entries["six"] == ("1.16.0", ["--hash=sha256:" + "0" * 64])
    assert entries["idna"] == ("3.10", [])


@pytest.mark.parametrize("lock", [RUNTIME_LOCK, DEV_LOCK], ids=lambda p: p.name)
def test_every_locked_package_is_pinned_with_hashes(lock: Path) -> None:
    entries = lock_entries(lock)
    assert len(entries) > 50, f"{lock.name}: read {len(entries)} packages"
    unhashed = sorted(name for name, (_, hashes) in entries.items() if not hashes)
    assert not unhashed, f"{lock.name}: no hash for {unhashed}"
    malformed = sorted(
        name for name, (_, hashes) in entries.items() if not all(HASH.fullmatch(h) for h in hashes)
    )
    assert not malformed, f"{lock.name}: malformed hash for {malformed}"


def check_declared_are_locked(
    declared: list[str], entries: dict[str, tuple[str, list[str]]], lock: str
) -> None:
    for line in declared:
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        assert name in entries, f"{name} is in pyproject.toml but not in {lock}: run make lock"
        version = entries[name][0]
        assert requirement.specifier.contains(version, prereleases=True), (
            f"{lock} pins {name}=={version}, outside pyproject.toml's {line!r}: run make lock"
        )


def test_runtime_lock_holds_the_runtime_and_build_dependencies(runtime: dict) -> None:
    declared = PYPROJECT["project"]["dependencies"] + PYPROJECT["build-system"]["requires"]
    check_declared_are_locked(declared, runtime, RUNTIME_LOCK.name)
    assert "pytest" not in runtime, "the runtime lock holds the dev tools"


def test_dev_lock_holds_everything_and_the_runtime_pins(runtime: dict, dev: dict) -> None:
    declared = (
        PYPROJECT["project"]["dependencies"]
        + PYPROJECT["project"]["optional-dependencies"]["dev"]
        + PYPROJECT["build-system"]["requires"]
    )
    check_declared_are_locked(declared, dev, DEV_LOCK.name)
    differ = {
        name: (version, dev[name][0] if name in dev else None)
        for name, (version, _) in runtime.items()
        if name not in dev or dev[name][0] != version
    }
    assert not differ, f"requirements.lock and requirements-dev.lock disagree: {differ}"
