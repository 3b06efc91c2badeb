"""Setup scripts: a missing python3.10 or Chromium is reported clearly."""

from __future__ import annotations

import subprocess

from bot.settings import REPO_ROOT


def test_missing_python310_is_reported_with_what_to_do(tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = {"PATH": str(tmp_path), "HOME": str(tmp_path), "PYENV_ROOT": str(tmp_path)}
    result = subprocess.run(
        ["/bin/bash", str(REPO_ROOT / "scripts" / "find-python310")], env=env, capture_output=True, text=True
    )
    if result.returncode == 0:  # a system-wide python3.10 in /usr or /usr/local is found anyway
        assert "3.10" in subprocess.run([result.stdout.strip(), "--version"], capture_output=True, text=True).stdout
        return
    assert result.returncode == 1
    assert "python3.10 not found" in result.stderr and "PYTHON310" in result.stderr


def test_python310_given_explicitly_is_checked(tmp_path) -> None:  # type: ignore[no-untyped-def]
    fake = tmp_path / "python3.10"
    fake.write_text("#!/bin/sh\nexit 1\n")
    fake.chmod(0o755)
    env = {"PATH": str(tmp_path), "HOME": str(tmp_path), "PYENV_ROOT": str(tmp_path), "PYTHON310": str(fake)}
    result = subprocess.run(
        ["/bin/bash", str(REPO_ROOT / "scripts" / "find-python310")], env=env, capture_output=True, text=True
    )
    assert result.stdout.strip() != str(fake)


def test_chromium_given_explicitly_is_used_or_reported(tmp_path) -> None:  # type: ignore[no-untyped-def]
    script = str(REPO_ROOT / "scripts" / "ensure-chromium")
    fake = tmp_path / "chromium"
    missing = subprocess.run(["/bin/bash", script], env={"HAMROH_CHROMIUM": str(fake)}, capture_output=True, text=True)
    assert missing.returncode == 1
    assert f"HAMROH_CHROMIUM={fake} is not an executable file" in missing.stderr
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    found = subprocess.run(["/bin/bash", script], env={"HAMROH_CHROMIUM": str(fake)}, capture_output=True, text=True)
    assert (found.returncode, found.stdout.strip()) == (0, str(fake))
