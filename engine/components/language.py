"""Rasa component: detect each message's language (one of seven tags) with a confidence.

The parse result gets `"language": {"name": "uz-Cyrl", "confidence": 0.97, "words": 4}`.
Whether that changes the conversation language is the action server's decision
(`bot.nlp.sticky`), because it depends on the conversation so far.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlp.langid import LanguageIdentifier
from bot.nlp.nludata import read_examples

_MODEL_FILE = "langid.json"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class LanguageDetector(GraphComponent):
    """Trains `bot.nlp.langid.LanguageIdentifier` on the per-language NLU files."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"nlu_data_dir": "../nlu_data"}

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        identifier: LanguageIdentifier | None = None,
    ) -> None:
        self.config = config
        self.model_storage = model_storage
        self.resource = resource
        self.identifier = identifier

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LanguageDetector:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        """Train on `nlu_data/<tag>.yml` (Rasa's merged training data has no language)."""
        examples = read_examples(Path(self.config["nlu_data_dir"]))
        self.identifier = LanguageIdentifier.train((e.language, e.text) for e in examples)
        with self.model_storage.write_to(self.resource) as directory:
            (directory / _MODEL_FILE).write_text(json.dumps(self.identifier.to_dict()))
        return self.resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> LanguageDetector:
        with model_storage.read_from(resource) as directory:
            counts = json.loads((directory / _MODEL_FILE).read_text())
        return cls(config, model_storage, resource, LanguageIdentifier(counts))

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Tag the training examples too: the featurizer after this uses their language."""
        self.process(training_data.training_examples)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if self.identifier is None or text.startswith("/"):
                continue
            detection = self.identifier.detect(text)
            message.set(
                "language",
                {
                    "name": detection.language,
                    "confidence": detection.confidence,
                    "words": detection.words,
                },
                add_to_output=True,
            )
        return messages
