"""All configuration in one place: environment variables (prefix HAMROH_) or a local `.env`."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.nlp.languages import DEFAULT_LANGUAGE

REPO_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Hamroh's settings. Secrets come from the environment, never from the repository."""

    model_config = SettingsConfigDict(env_prefix="HAMROH_", env_file=".env", extra="ignore")

    engine_url: str = "http://127.0.0.1:5005"
    app_host: str = "127.0.0.1"
    app_port: int = 5055
    default_language: str = DEFAULT_LANGUAGE
    crisis_contacts_file: Path = REPO_ROOT / "config" / "crisis_contacts.sample.yml"
    engine_venv: Path = REPO_ROOT / ".venvs" / "engine"
    models_dir: Path = REPO_ROOT / "engine" / "models"
    engine_start_timeout: float = 180.0

    @property
    def app_url(self) -> str:
        """The app's base URL, as the engine calls it."""
        return f"http://{self.app_host}:{self.app_port}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings (read once)."""
    return Settings()
