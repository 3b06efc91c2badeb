"""All configuration in one place: environment variables (prefix HAMROH_) or a local `.env`."""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.nlp.languages import DEFAULT_LANGUAGE

REPO_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Hamroh's settings. Secrets come from the environment, never from the repository."""

    model_config = SettingsConfigDict(env_prefix="HAMROH_", env_file=".env", extra="ignore")

    #: `production` refuses to start without every secret; anything else generates local ones.
    env: str = "development"
    engine_url: str = "http://127.0.0.1:5005"
    #: The public listener: channel webhooks and /health only.
    app_host: str = "127.0.0.1"
    app_port: int = 5055
    #: The internal listener: the engine's action (`/webhook`) and reply (`/nlg`) endpoints.
    internal_host: str = "127.0.0.1"
    internal_port: int = 5056
    #: Shared secret the engine sends to the internal listener (header X-Hamroh-Token).
    internal_token: str = ""
    #: The engine's API token (`rasa run --auth-token`), sent by the app on every engine call.
    engine_token: str = ""
    #: Where the engine keeps conversations (SQLAlchemy URL); empty: the app's database.
    tracker_store_url: str = ""
    default_language: str = DEFAULT_LANGUAGE
    crisis_contacts_file: Path = REPO_ROOT / "config" / "crisis_contacts.sample.yml"
    engine_venv: Path = REPO_ROOT / ".venvs" / "engine"
    models_dir: Path = REPO_ROOT / "engine" / "models"
    #: The caseworkers' reminder and follow-up flows (reloaded when a file changes).
    flows_dir: Path = REPO_ROOT / "flows"
    engine_start_timeout: float = 180.0
    #: SQLAlchemy URL. The embedded default is a SQLite file; production uses PostgreSQL
    #: (postgresql+psycopg://user@host/db).
    database_url: str = f"sqlite:///{REPO_ROOT / 'var' / 'hamroh.db'}"
    #: Key for hashing link codes and second factors. Set it in production; when empty, a
    #: random key is created once in var/secret.key (local use only).
    secret_key: str = ""
    #: When caseworkers answer, on weekdays, local time (shown to people who ask for a person).
    office_opens: str = "09:00"
    office_closes: str = "18:00"
    #: What people wrote (app and engine) is kept this many days, then removed every night.
    message_retention_days: int = 90
    link_code_hours: int = 72

    # Channels (secrets from the environment only). Empty token or SID: that channel is off.
    telegram_bot_token: str = ""
    telegram_webhook_secret: str = ""
    #: The bot's Telegram username (without @), for the console's `https://t.me/<name>?start=<code>` links.
    telegram_bot_username: str = ""
    #: Telegram Bot API server (a local fake in tests and offline demos).
    telegram_api_base: str = "https://api.telegram.org"
    twilio_account_sid: str = ""
    twilio_auth_token: str = ""
    twilio_from_number: str = ""
    #: Twilio REST API (a local fake in tests and offline demos).
    twilio_api_base: str = "https://api.twilio.com"
    #: The app's URL as Telegram and Twilio see it (behind a proxy); signatures are checked against it.
    public_base_url: str = ""
    #: Fetch Telegram updates by long polling instead of a webhook (local use without a public URL).
    telegram_polling: bool = False
    #: Public request bodies larger than this get 413.
    max_body_bytes: int = 64 * 1024
    #: Internal request bodies (the engine sends the whole session's tracker) larger than this get 413.
    max_internal_body_bytes: int = 4 * 1024 * 1024
    #: JSON nested deeper than this gets 400.
    max_json_depth: int = 32
    #: Sending limits: Telegram allows about 30 messages a second per bot and one a second per chat;
    #: the SMS rate depends on the sending number (ask the provider).
    telegram_messages_per_second: float = 30.0
    telegram_chat_interval_seconds: float = 1.0
    sms_messages_per_second: float = 5.0

    # The flow dispatcher (runs inside `hamroh serve` when a channel is configured).
    dispatch_enabled: bool = True
    dispatch_every_seconds: float = 10.0
    dispatch_batch: int = 200
    dispatch_concurrency: int = 16
    #: A claim older than this is taken to belong to a dispatcher that stopped.
    dispatch_lease_seconds: float = 300.0
    dispatch_max_attempts: int = 8
    #: First retry delay after a transient failure; it doubles per attempt (at most an hour).
    dispatch_retry_seconds: float = 30.0

    # The inbound queue (bot/channels/gateway.py): each person's messages in order, people at once.
    #: How many people's messages one process handles at once.
    inbound_concurrency: int = 32
    #: A claim not renewed for this long belongs to a process that stopped: another takes it over.
    inbound_lease_seconds: float = 30.0
    #: First retry delay after a transient failure (engine, network, provider); it doubles per
    #: attempt up to `inbound_retry_max_seconds`, and goes on for as long as the message is worth
    #: answering.
    inbound_retry_seconds: float = 1.0
    inbound_retry_max_seconds: float = 15.0
    inbound_answer_within_hours: float = 24.0
    #: At shutdown, how long the messages being handled get to finish before they are given back.
    inbound_shutdown_seconds: float = 10.0
    #: How often to look for due retries and for messages another process recorded.
    inbound_poll_seconds: float = 1.0

    # The caseworkers' console (bot/console), under /console on the public listener.
    #: A session unused this long is signed out; none lasts longer than `console_session_hours`.
    console_idle_minutes: float = 60.0
    console_session_hours: float = 12.0
    #: This many wrong passwords in a row lock an account for `console_lockout_minutes`.
    console_max_failed_sign_ins: int = 5
    console_lockout_minutes: float = 15.0
    #: A caseworker who handles a conversation keeps it this long after their last reply, then the bot answers again.
    console_handling_minutes: float = 30.0
    #: Saved replies the console offers, per language (see the SAMPLE).
    saved_replies_file: Path = REPO_ROOT / "config" / "saved_replies.sample.yml"

    def hashing_key(self) -> bytes:
        """The secret for HMACs: `secret_key`, or a local random key kept in var/secret.key."""
        return (self.secret_key or local_secret("secret.key")).encode()

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def app_url(self) -> str:
        """The public listener's base URL on this machine."""
        return f"http://{self.app_host}:{self.app_port}"

    @property
    def internal_url(self) -> str:
        """The internal listener's base URL, as the engine calls it."""
        return f"http://{self.internal_host}:{self.internal_port}"

    @property
    def engine_tracker_store_url(self) -> str:
        """The tracker store's URL for the engine's SQLAlchemy 1.4 (psycopg 2 instead of 3)."""
        url = self.tracker_store_url or self.database_url
        return url.replace("postgresql+psycopg://", "postgresql+psycopg2://", 1)

    def missing_secrets(self) -> list[str]:
        """The environment variables production needs and this configuration lacks (names only)."""
        needed = {"HAMROH_SECRET_KEY": self.secret_key, "HAMROH_INTERNAL_TOKEN": self.internal_token,
                  "HAMROH_ENGINE_TOKEN": self.engine_token, "HAMROH_PUBLIC_BASE_URL": self.public_base_url}
        if self.telegram_bot_token and not self.telegram_polling:
            needed["HAMROH_TELEGRAM_WEBHOOK_SECRET"] = self.telegram_webhook_secret
        if self.twilio_account_sid:
            needed["HAMROH_TWILIO_AUTH_TOKEN"] = self.twilio_auth_token
        return [name for name, value in needed.items() if not value]

    def for_serving(self) -> Settings:
        """These settings ready to serve: in production every secret must be set (else SettingsError
        naming what is missing); elsewhere an unset one is generated once and kept in var/."""
        if self.app_port == self.internal_port:
            raise SettingsError("HAMROH_APP_PORT and HAMROH_INTERNAL_PORT must differ")
        if self.production:
            missing = self.missing_secrets()
            if missing:
                raise SettingsError(f"production needs {', '.join(missing)} (set in the environment)")
            if not self.public_base_url.startswith("https://"):
                raise SettingsError("production needs HAMROH_PUBLIC_BASE_URL to start with https://")
            return self
        return self.model_copy(update={
            "internal_token": self.internal_token or local_secret("internal.token"),
            "engine_token": self.engine_token or local_secret("engine.token"),
            "telegram_webhook_secret": self.telegram_webhook_secret or local_secret("telegram-webhook.secret"),
        })


class SettingsError(RuntimeError):
    """The configuration cannot be served safely."""


def local_secret(name: str) -> str:
    """A random secret for local use, created once in var/`name` (mode 0600) and shared by every process."""
    path = REPO_ROOT / "var" / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{name}.{os.getpid()}")
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as output:
            output.write(secrets.token_hex(32))
        try:
            os.link(draft, path)  # atomic: the first process to get here wins
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings (read once)."""
    return Settings()
