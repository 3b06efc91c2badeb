"""Train the engine's model when its inputs change; reuse the cached one otherwise.

A model is named after a hash of everything that goes into it, so an unchanged checkout
never retrains and a changed training file always does.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

from bot.settings import REPO_ROOT, Settings

ENGINE_DIR = REPO_ROOT / "engine"
NLU_DATA_DIR = REPO_ROOT / "nlu_data"
#: Files whose content changes the trained model (the lexicon and replies do not).
MODEL_INPUTS = (
    (NLU_DATA_DIR, "*.yml"),
    (ENGINE_DIR, "config.yml"),
    (ENGINE_DIR, "domain.yml"),
    (ENGINE_DIR / "data", "*.yml"),
    (ENGINE_DIR / "components", "*.py"),
    (REPO_ROOT / "bot" / "nlp", "*.py"),
)


class TrainingError(RuntimeError):
    """The engine failed to train a model."""


def model_fingerprint() -> str:
    """A hash of every model input file's path and content."""
    digest = hashlib.sha256()
    for directory, pattern in MODEL_INPUTS:
        for path in sorted(directory.glob(pattern)):
            digest.update(str(path.relative_to(REPO_ROOT)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def engine_environment() -> dict[str, str]:
    """Environment for engine processes: our components importable, no telemetry."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), str(ENGINE_DIR)])
    env["RASA_TELEMETRY_ENABLED"] = "false"
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return env


def ensure_model(settings: Settings, log: Path | None = None) -> Path:
    """Return the model for the current inputs, training it first if it is not cached."""
    name = f"hamroh-{model_fingerprint()}"
    model = settings.models_dir / f"{name}.tar.gz"
    if model.exists():
        return model
    settings.models_dir.mkdir(parents=True, exist_ok=True)
    command = [
        str(settings.engine_venv / "bin" / "rasa"), "train",
        "--config", "config.yml", "--domain", "domain.yml",
        "--data", str(NLU_DATA_DIR), "data",
        "--out", str(settings.models_dir), "--fixed-model-name", name,
    ]
    log_path = log or settings.models_dir / "train.log"
    with log_path.open("w") as output:
        result = subprocess.run(
            command, cwd=ENGINE_DIR, env=engine_environment(), stdout=output, stderr=output
        )
    if result.returncode != 0 or not model.exists():
        raise TrainingError(f"training failed (exit {result.returncode}); see {log_path}")
    return model
