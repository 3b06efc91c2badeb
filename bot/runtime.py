"""Process-wide resources of the app server, created once on first use."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from bot.db.session import Database
from bot.flows.library import FlowLibrary
from bot.nlp.langid import LanguageIdentifier
from bot.nlp.nludata import read_examples
from bot.nlp.vocabulary import Vocabulary
from bot.responses.catalog import Catalog
from bot.settings import REPO_ROOT, get_settings


@lru_cache(maxsize=1)
def database() -> Database:
    """The database of `settings.database_url`, migrated to the newest schema."""
    url = get_settings().database_url
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    db = Database(url)
    db.upgrade()
    return db


@lru_cache(maxsize=1)
def catalog() -> Catalog:
    """The reply catalog."""
    return Catalog.load(get_settings().default_language)


@lru_cache(maxsize=1)
def vocabulary() -> Vocabulary:
    """Trades, cities and document types in every language's spelling."""
    return Vocabulary.from_nlu_data(REPO_ROOT / "nlu_data")


@lru_cache(maxsize=1)
def language_identifier() -> LanguageIdentifier:
    """The engine's language identifier, trained on the same NLU data (about two seconds), for the
    replies the app gives itself before the engine is asked (a crisis, an opt-out)."""
    return LanguageIdentifier.train((e.language, e.text) for e in read_examples(REPO_ROOT / "nlu_data"))


@lru_cache(maxsize=1)
def flow_library() -> FlowLibrary:
    """The caseworkers' flows (`flows/*.yml`), reloaded when the files change."""
    return FlowLibrary(get_settings().flows_dir)
