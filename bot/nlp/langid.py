"""Language identification: a naive Bayes model over character n-grams.

Trained on the NLU examples of each language (`nlu_data/<tag>.yml`), it tells the seven
languages apart, including Uzbek in Latin and in Cyrillic script and Kazakh or Kyrgyz
typed without their special letters. Pure Python, so the engine and the app share it.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from bot.nlp.languages import SCRIPTS, dominant_script
from bot.nlp.normalize import normalize_text

_SPECIAL_LETTERS = frozenset("әғқңөұүһіўҳӣӯҷ")
_WORD = re.compile(r"[^\W\d_]+(?:ʻ[^\W\d_]+)*")
_MAX_NGRAM = 5
_SMOOTHING = 0.1
#: Log-likelihoods of naive Bayes are far too sure of themselves; dividing by this
#: power of the feature count gives confidences that rise with the message's length.
_TEMPERATURE_EXPONENT = 0.5


@dataclass(frozen=True)
class Detection:
    """The most likely language of a message, how sure the model is, and the word count."""

    language: str
    confidence: float
    words: int


def words_of(text: str) -> list[str]:
    """Return the lower-case words (letters only) of `text`."""
    return _WORD.findall(normalize_text(text).lower())


def writing_style(language: str, words: list[str]) -> str:
    """A sub-class of `language` for one way of writing it: `ru/Latin`, `kk/Cyrillic/plain` …

    Russian typed in Latin letters, or Kazakh typed without its own letters, looks little
    like the same language written in full; modelling each way of writing on its own keeps
    the rarer one from being drowned by the common one.
    """
    text = "".join(words)
    plain = "plain" if not _SPECIAL_LETTERS.intersection(text) else "full"
    return f"{language}/{dominant_script(text)}/{plain}"


def language_of(style: str) -> str:
    """The language tag of a `writing_style`."""
    return style.split("/", 1)[0]


def features(words: list[str]) -> list[str]:
    """Return character 1-5-grams of each padded word, the words themselves and word pairs."""
    found: list[str] = []
    for word in words:
        padded = f" {word} "
        for size in range(1, _MAX_NGRAM + 1):
            found.extend(padded[i : i + size] for i in range(len(padded) - size + 1))
        found.append(f"w:{word}")
    found.extend(f"b:{first} {second}" for first, second in zip(words, words[1:], strict=False))
    return found


class LanguageIdentifier:
    """Multinomial naive Bayes over `features`, restricted to the message's script."""

    def __init__(self, counts: dict[str, dict[str, int]]) -> None:
        self.counts = counts
        self.totals = {language: sum(c.values()) for language, c in counts.items()}
        vocabulary: set[str] = set()
        for language_counts in counts.values():
            vocabulary.update(language_counts)
        self.vocabulary_size = len(vocabulary) + 1

    @classmethod
    def train(cls, samples: Iterable[tuple[str, str]]) -> LanguageIdentifier:
        """Build a model from (language, text) pairs."""
        counters: dict[str, Counter[str]] = defaultdict(Counter)
        for language, text in samples:
            words = words_of(text)
            counters[writing_style(language, words)].update(features(words))
        return cls({style: dict(counter) for style, counter in counters.items()})

    def to_dict(self) -> dict[str, dict[str, int]]:
        """Return the model's counts, ready for JSON."""
        return self.counts

    def detect(self, text: str, fallback: str = "en") -> Detection:
        """Return the most likely language of `text` (`fallback`, confidence 0, if no letters)."""
        words = words_of(text)
        script = dominant_script(" ".join(words))
        candidates = [
            style
            for style in self.counts
            if script is None or script in SCRIPTS[language_of(style)]
        ]
        if not words or not candidates:
            return Detection(fallback, 0.0, len(words))
        feats = features(words)
        scale = len(feats) ** _TEMPERATURE_EXPONENT
        logs = {style: self._log_likelihood(style, feats) / scale for style in candidates}
        # Relative to the best score, so that long messages do not underflow to 0 (log-sum-exp).
        top = max(logs.values())
        scores: dict[str, float] = defaultdict(float)
        for style, value in logs.items():
            scores[language_of(style)] += math.exp(value - top)
        best = max(scores, key=lambda language: scores[language])
        return Detection(best, round(scores[best] / sum(scores.values()), 4), len(words))

    def _log_likelihood(self, language: str, feats: list[str]) -> float:
        counts = self.counts[language]
        denominator = math.log(self.totals[language] + _SMOOTHING * self.vocabulary_size)
        return sum(math.log(counts.get(f, 0) + _SMOOTHING) - denominator for f in feats)
