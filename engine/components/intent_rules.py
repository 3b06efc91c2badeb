"""Rasa component: rules on top of the intent classifier (`bot.nlp.intent_rules`).

Runs after the classifier and the fallback classifier, before the crisis safety net. Trades
and cities are recognised as the app does (`bot.nlp.vocabulary`, learnt from the entity
annotations at training time) and by the entity extractor. A changed intent is marked in the
parse result (`intent_rule`), so the override is visible and testable.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlp.intent_rules import Reading, refined_intent
from bot.nlp.vocabulary import Vocabulary

_MODEL_FILE = "vocabulary.json"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class IntentRules(GraphComponent):
    """Course search for a trade or city without another clear intent; the menu for long unclear messages."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"nlu_data_dir": "../nlu_data"}

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        vocabulary: Vocabulary | None = None,
    ) -> None:
        self.config = config
        self.model_storage = model_storage
        self.resource = resource
        self.vocabulary = vocabulary or Vocabulary({})

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> IntentRules:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        """Keep the trades and cities of `nlu_data/<tag>.yml` in every spelling."""
        self.vocabulary = Vocabulary.from_nlu_data(Path(self.config["nlu_data_dir"]))
        with self.model_storage.write_to(self.resource) as directory:
            (directory / _MODEL_FILE).write_text(json.dumps(self.vocabulary.forms, ensure_ascii=False))
        return self.resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> IntentRules:
        with model_storage.read_from(resource) as directory:
            forms = json.loads((directory / _MODEL_FILE).read_text())
        return cls(config, model_storage, resource, Vocabulary(forms))

    def _mentions(self, message: Message, entity: str, text: str) -> bool:
        extracted = any(found.get("entity") == entity for found in message.get(ENTITIES) or [])
        return extracted or self.vocabulary.find(entity, text) is not None

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            intent = message.get(INTENT) or {}
            if text.startswith("/") or not intent.get("name"):
                continue
            reading = Reading(
                intent=str(intent["name"]), confidence=float(intent.get("confidence") or 0.0),
                words=len(text.split()), trade=self._mentions(message, "trade", text),
                city=self._mentions(message, "city", text),
            )
            refined = refined_intent(reading)
            if refined is None:
                continue
            override = {"name": refined, "confidence": reading.confidence}
            ranking = [entry for entry in message.get(INTENT_RANKING_KEY) or [] if entry.get("name") != refined]
            message.set(INTENT, override, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [override, *ranking], add_to_output=True)
            message.set("intent_rule", {"from": reading.intent, "to": refined}, add_to_output=True)
        return messages
