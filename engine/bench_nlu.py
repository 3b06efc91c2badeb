"""NLU benchmark: `make bench-nlu` (runs in the engine's environment). Prints figures only.

For our pipeline (config.yml) and Rasa's stock pipeline (the `rasa init` default), trained on
the same stratified 80 % of every language file and tested on the other 20 % (spellings of one
message kept on one side):
intent accuracy and macro-F1 per language, crisis recall on tests/data/heldout (phrasings
that are in no training file), training time, and parse latency in-process. Then, for our
pipeline trained on all data: parse latency over HTTP and the engine's resident memory.
Language-ID accuracy (messages of 3+ words) comes from the same split and the held-out lists.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter, defaultdict
from pathlib import Path

import yaml

ENGINE_DIR = Path(__file__).resolve().parent
REPO = ENGINE_DIR.parent
sys.path[:0] = [str(REPO), str(ENGINE_DIR)]

from bot.nlp.langid import LanguageIdentifier  # noqa: E402
from bot.nlp.languages import LANGUAGES  # noqa: E402
from bot.nlp.nludata import plain_text  # noqa: E402
from bot.nlp.normalize import normalize_text  # noqa: E402
from bot.nlp.romanize import romanize  # noqa: E402

STOCK_CONFIG = {
    "recipe": "default.v1",
    "language": "xx",
    "assistant_id": "stock",
    "pipeline": [
        {"name": "WhitespaceTokenizer"},
        {"name": "RegexFeaturizer"},
        {"name": "LexicalSyntacticFeaturizer"},
        {"name": "CountVectorsFeaturizer"},
        {"name": "CountVectorsFeaturizer", "analyzer": "char_wb", "min_ngram": 1, "max_ngram": 4},
        {"name": "DIETClassifier", "epochs": 100, "constrain_similarities": True},
        {"name": "EntitySynonymMapper"},
        {"name": "ResponseSelector", "epochs": 100, "constrain_similarities": True},
        {"name": "FallbackClassifier", "threshold": 0.3, "ambiguity_threshold": 0.1},
    ],
    "policies": [{"name": "RulePolicy"}],
}


def read_blocks(language: str) -> dict[str, list[str]]:
    """Annotated example lines per intent of one language file."""
    document = yaml.safe_load((REPO / "nlu_data" / f"{language}.yml").read_text(encoding="utf-8"))
    blocks: dict[str, list[str]] = {}
    for block in document["nlu"]:
        if "intent" in block:
            lines = block["examples"].splitlines()
            blocks[block["intent"]] = [line.strip()[2:] for line in lines if line.strip().startswith("- ")]
    return blocks


def spelling_groups(lines: list[str]) -> list[list[str]]:
    """The lines grouped by their script-neutral spelling: "қайырлы таң" and "кайырлы тан" are one group."""
    groups: dict[str, list[str]] = defaultdict(list)
    for line in lines:
        groups[romanize(plain_text(line)).strip(" ?!.,")].append(line)
    return list(groups.values())


def split(seed: int, test_share: float):
    """Stratified split: (train blocks per language, test (language, intent, text) list).

    Spellings of one message (with and without a language's special letters, or its apostrophe
    variants) stay on one side, so the test never holds a line the model trained on in another spelling.
    """
    rng = random.Random(seed)
    train: dict[str, dict[str, list[str]]] = {}
    test: list[tuple[str, str, str]] = []
    for language in LANGUAGES:
        train[language] = {}
        for intent, lines in read_blocks(language).items():
            groups = spelling_groups(lines)
            rng.shuffle(groups)
            wanted = max(1, round(len(lines) * test_share))
            held: list[str] = []
            while len(held) < wanted:
                held += groups.pop()
            test += [(language, intent, plain_text(line)) for line in held]
            train[language][intent] = [line for group in groups for line in group]
    return train, test


def write_nlu(blocks: dict[str, dict[str, list[str]]], directory: Path) -> None:
    for language, intents in blocks.items():
        out = ['version: "3.1"', "nlu:"]
        for intent, lines in intents.items():
            out += [f"- intent: {intent}", "  examples: |"] + [f"    - {line}" for line in lines]
        (directory / f"{language}.yml").write_text("\n".join(out) + "\n", encoding="utf-8")


def heldout(kind: str) -> dict[str, list[str]]:
    found = {}
    for language in LANGUAGES:
        path = REPO / "tests" / "data" / "heldout" / f"{language}.yml"
        document = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else None
        found[language] = (document or {}).get(kind, [])
    return found


def macro_f1(pairs: list[tuple[str, str]]) -> float:
    labels = {gold for gold, _ in pairs}
    scores = []
    for label in labels:
        tp = sum(1 for g, p in pairs if g == label and p == label)
        fp = sum(1 for g, p in pairs if g != label and p == label)
        fn = sum(1 for g, p in pairs if g == label and p != label)
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return statistics.mean(scores)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def evaluate(name: str, config_path: Path, data_dir: Path, test, crisis) -> dict:
    from rasa.core.agent import Agent
    from rasa.model_training import train_nlu

    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        model = train_nlu(str(config_path), str(data_dir), out, fixed_model_name=name)
        training_seconds = time.perf_counter() - started
        agent = Agent.load(model)

    async def parse_all(texts: list[str]) -> tuple[list[dict], list[float]]:
        results, times = [], []
        for text in texts:
            t0 = time.perf_counter()
            results.append(await agent.parse_message(normalize_text(text)))
            times.append((time.perf_counter() - t0) * 1000)
        return results, times

    results, times = asyncio.run(parse_all([text for _, _, text in test]))
    by_language: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for (language, gold, _), result in zip(test, results, strict=True):
        by_language[language].append((gold, result["intent"]["name"]))
    crisis_recall = {}
    for language, texts in crisis.items():
        parsed, _ = asyncio.run(parse_all(texts))
        crisis_recall[language] = sum(r["intent"]["name"] == "crisis" for r in parsed) / max(1, len(texts))
    confusion = Counter((gold, result["intent"]["name"]) for (_, gold, _), result in zip(test, results, strict=True))
    errors = [(language, gold, text, result["intent"]["name"]) for (language, gold, text), result
              in zip(test, results, strict=True) if result["intent"]["name"] != gold]
    return {
        "errors": errors,
        "confused": [(pair, n) for pair, n in confusion.most_common() if pair[0] != pair[1]][:8],
        "train_s": training_seconds,
        "p50_ms": percentile(times, 0.5),
        "p95_ms": percentile(times, 0.95),
        "accuracy": {lang: sum(g == p for g, p in pairs) / len(pairs) for lang, pairs in by_language.items()},
        "macro_f1": {lang: macro_f1(pairs) for lang, pairs in by_language.items()},
        "fallback": {
            lang: sum(p == "nlu_fallback" for _, p in pairs) / len(pairs) for lang, pairs in by_language.items()
        },
        "crisis_recall": crisis_recall,
    }


def write_errors(errors: list[tuple[str, str, str, str]], directory: Path) -> None:
    """One file per language: each misclassified held-out message with its gold and predicted intent."""
    directory.mkdir(parents=True, exist_ok=True)
    for language in LANGUAGES:
        lines = [f"{gold} -> {predicted}\t{text}" for lang, gold, text, predicted in sorted(errors) if lang == language]
        (directory / f"{language}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


def language_id(train, test) -> dict[str, float]:
    identifier = LanguageIdentifier.train(
        (language, plain_text(line))
        for language, intents in train.items()
        for lines in intents.values()
        for line in lines
    )
    extra = heldout("language_id")
    samples = [(lang, text) for lang, _, text in test] + [(lang, t) for lang, texts in extra.items() for t in texts]
    hits: dict[str, list[bool]] = defaultdict(list)
    for language, text in samples:
        detection = identifier.detect(text)
        if detection.words >= 3:
            hits[language].append(detection.language == language)
    return {language: sum(h) / len(h) for language, h in hits.items()}


def http_figures(model_dir: Path, port: int, texts: list[str]) -> dict:
    """Train on all data, serve over HTTP, time /model/parse and read the server's memory."""
    from rasa.model_training import train_nlu

    model = train_nlu(str(ENGINE_DIR / "config.yml"), str(REPO / "nlu_data"), str(model_dir), fixed_model_name="all")
    # endpoints.yml names the app server; /model/parse never calls it.
    env = dict(os.environ, RASA_TELEMETRY_ENABLED="false", HAMROH_APP_URL="http://127.0.0.1:9")
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "rasa"), "run", "--enable-api", "-m", model, "--port", str(port),
         "--interface", "127.0.0.1"],
        cwd=ENGINE_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        load_started = time.perf_counter()
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=2) as response:
                    if json.load(response).get("model_file"):
                        break
            except OSError:
                pass
            if server.poll() is not None or time.perf_counter() - load_started > 300:
                raise RuntimeError("engine did not start")
            time.sleep(0.5)
        startup_s = time.perf_counter() - load_started
        times = []
        for text in texts:
            body = json.dumps({"text": normalize_text(text)}).encode()
            request = urllib.request.Request(f"http://127.0.0.1:{port}/model/parse", body,
                                             {"Content-Type": "application/json"})
            t0 = time.perf_counter()
            with urllib.request.urlopen(request, timeout=10) as response:
                response.read()
            times.append((time.perf_counter() - t0) * 1000)
        status = Path(f"/proc/{server.pid}/status").read_text()
        rss_mb = int(next(line for line in status.splitlines() if line.startswith("VmRSS")).split()[1]) / 1024
        return {"startup_s": startup_s, "p50_ms": percentile(times, 0.5), "p95_ms": percentile(times, 0.95),
                "rss_mb": rss_mb}
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--test-share", type=float, default=0.2)
    parser.add_argument("--skip-stock", action="store_true", help="only our pipeline (faster)")
    parser.add_argument("--port", type=int, default=5097)
    parser.add_argument("--config", type=Path, default=ENGINE_DIR / "config.yml", help="our pipeline to measure")
    parser.add_argument("--skip-http", action="store_true", help="no HTTP latency and memory figures")
    parser.add_argument("--errors", type=Path, help="write our pipeline's misclassified messages here, per language")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)  # the engine's debug events would print every message
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

    train, test = split(args.seed, args.test_share)
    crisis = heldout("crisis")
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "nlu"
        data_dir.mkdir()
        write_nlu(train, data_dir)
        stock_config = Path(tmp) / "stock.yml"
        stock_config.write_text(yaml.safe_dump(STOCK_CONFIG))
        runs = {"hamroh": evaluate("hamroh", args.config, data_dir, test, crisis)}
        if args.errors:
            write_errors(runs["hamroh"]["errors"], args.errors)
        if not args.skip_stock:
            runs["stock"] = evaluate("stock", stock_config, data_dir, test, crisis)
        report(runs, language_id(train, test), test, crisis, args)
        if args.skip_http:
            return
        http = http_figures(Path(tmp) / "all", args.port, [text for _, _, text in test][:300])
    print(f"hamroh over HTTP (trained on all data): startup {http['startup_s']:.1f} s, "
          f"parse p50 {http['p50_ms']:.1f} ms, p95 {http['p95_ms']:.1f} ms, "
          f"engine resident memory {http['rss_mb']:.0f} MB")


def report(runs: dict, langid: dict[str, float], test, crisis, args: argparse.Namespace) -> None:
    """Print the accuracy table and the per-pipeline timings."""
    names = list(runs)
    print(f"NLU benchmark: {len(test)} held-out messages (seed {args.seed}, {args.test_share:.0%} of each intent "
          f"per language), crisis held-out: {sum(map(len, crisis.values()))}")
    header = f"{'lang':8}" + "".join(f" | {n + ' acc':>10} {n + ' F1':>9} {'fallbk':>6} {'crisis':>6}" for n in names)
    print(header + f" | {'lang-ID(3+ words)':>17}")
    print("-" * len(header + " | lang-ID(3+ words)"))
    for language in LANGUAGES:
        row = f"{language:8}"
        for n in names:
            r = runs[n]
            row += (f" | {r['accuracy'].get(language, 0):>10.3f} {r['macro_f1'].get(language, 0):>9.3f}"
                    f" {r['fallback'].get(language, 0):>6.3f} {r['crisis_recall'].get(language, 0):>6.3f}")
        print(row + f" | {langid.get(language, 0):>17.3f}")
    for n in names:
        r = runs[n]
        print(f"{n}: training {r['train_s']:.1f} s, parse in-process p50 {r['p50_ms']:.1f} ms, "
              f"p95 {r['p95_ms']:.1f} ms, mean accuracy {statistics.mean(r['accuracy'].values()):.3f}")
        print(f"{n}: most confused (gold → predicted, count): "
              + ", ".join(f"{gold}→{predicted} {count}" for (gold, predicted), count in r["confused"]))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
