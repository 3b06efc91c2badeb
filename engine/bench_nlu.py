"""NLU benchmark: `make bench-nlu` (runs in the engine's environment). Prints figures only.

Our pipeline (config.yml) is measured by stratified k-fold cross-validation over every
language file: each example is held out exactly once, and spellings of one message (with and
without a language's special letters) stay in one fold. Per language: intent accuracy (pooled
over the folds, and the weakest fold), macro-F1, crisis recall on tests/data/heldout (phrasings
that are in no training file), language-ID accuracy on messages of 3+ words; then training
time and parse latency in-process. Rasa's stock pipeline (the `rasa init` default) is trained
on the first fold's training data and compared with ours on that fold. Finally, for our
pipeline trained on all data: parse latency over HTTP and the engine's resident memory.
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


def folds(seed: int, count: int) -> list[tuple[dict[str, dict[str, list[str]]], list[tuple[str, str, str]]]]:
    """Stratified k-fold split: per fold, (train blocks per language, test (language, intent, text) list).

    Every line is tested in exactly one fold. Spellings of one message stay in one fold, so no
    test line was trained on in another spelling.
    """
    rng = random.Random(seed)
    tests: list[list[tuple[str, str, str]]] = [[] for _ in range(count)]
    trains: list[dict[str, dict[str, list[str]]]] = [{language: {} for language in LANGUAGES} for _ in range(count)]
    for language in LANGUAGES:
        for intent, lines in read_blocks(language).items():
            groups = spelling_groups(lines)
            rng.shuffle(groups)
            parts: list[list[str]] = [[] for _ in range(count)]
            for group in groups:
                min(parts, key=len).extend(group)
            for index, part in enumerate(parts):
                tests[index] += [(language, intent, plain_text(line)) for line in part]
                trains[index][language][intent] = [
                    line for other, lines_of_other in enumerate(parts) if other != index for line in lines_of_other
                ]
    return list(zip(trains, tests, strict=True))


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
    """Train `config_path` on `data_dir`; parse the test and crisis messages; return the raw results."""
    from rasa.core.agent import Agent
    from rasa.model_training import train_nlu

    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        model = train_nlu(str(config_path), str(data_dir), out, fixed_model_name=name)
        training_seconds = time.perf_counter() - started
        agent = Agent.load(model)

    async def parse_all(texts: list[str]) -> tuple[list[str], list[float]]:
        intents, times = [], []
        for text in texts:
            t0 = time.perf_counter()
            result = await agent.parse_message(normalize_text(text))
            times.append((time.perf_counter() - t0) * 1000)
            intents.append(result["intent"]["name"])
        return intents, times

    predicted, times = asyncio.run(parse_all([text for _, _, text in test]))
    crisis_recall = {}
    for language, texts in crisis.items():
        parsed, _ = asyncio.run(parse_all(texts))
        crisis_recall[language] = sum(intent == "crisis" for intent in parsed) / max(1, len(texts))
    return {
        "predictions": [(*case, intent) for case, intent in zip(test, predicted, strict=True)],
        "times": times,
        "train_s": training_seconds,
        "crisis_recall": crisis_recall,
    }


def summarise(runs: list[dict]) -> dict:
    """Pool the folds' predictions: accuracy, macro-F1 and fallback share per language, the weakest
    fold's accuracy, the lowest crisis recall of any fold, timings and the most frequent confusions."""
    by_language: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for run in runs:
        for language, gold, _, predicted in run["predictions"]:
            by_language[language].append((gold, predicted))
    predictions = [p for run in runs for p in run["predictions"]]
    confusion = Counter((gold, predicted) for _, gold, _, predicted in predictions if gold != predicted)
    times = [t for run in runs for t in run["times"]]
    return {
        "folds": len(runs),
        "tested": len(predictions),
        "errors": [p for p in predictions if p[1] != p[3]],
        "confused": confusion.most_common(8),
        "train_s": statistics.mean(run["train_s"] for run in runs),
        "p50_ms": percentile(times, 0.5),
        "p95_ms": percentile(times, 0.95),
        "accuracy": {lang: accuracy(pairs) for lang, pairs in by_language.items()},
        "weakest_fold": {
            lang: min(accuracy([(g, p) for tag, g, _, p in run["predictions"] if tag == lang]) for run in runs)
            for lang in by_language
        },
        "macro_f1": {lang: macro_f1(pairs) for lang, pairs in by_language.items()},
        "fallback": {
            lang: sum(p == "nlu_fallback" for _, p in pairs) / len(pairs) for lang, pairs in by_language.items()
        },
        "crisis_recall": {lang: min(run["crisis_recall"][lang] for run in runs) for lang in runs[0]["crisis_recall"]},
    }


def accuracy(pairs: list[tuple[str, str]]) -> float:
    return sum(gold == predicted for gold, predicted in pairs) / len(pairs)


def write_errors(errors: list[tuple[str, str, str, str]], directory: Path) -> None:
    """One file per language: each misclassified held-out message with its gold and predicted intent."""
    directory.mkdir(parents=True, exist_ok=True)
    for language in LANGUAGES:
        lines = [f"{gold} -> {predicted}\t{text}" for lang, gold, text, predicted in sorted(errors) if lang == language]
        (directory / f"{language}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


def language_id(train, test) -> dict[str, list[bool]]:
    """Per language, whether each held-out message of 3+ words was identified correctly."""
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
    return hits


def http_figures(model_dir: Path, port: int, texts: list[str]) -> dict:
    """Train on all data, serve over HTTP, time /model/parse and read the server's memory."""
    from rasa.model_training import train_nlu

    model = train_nlu(str(ENGINE_DIR / "config.yml"), str(REPO / "nlu_data"), str(model_dir), fixed_model_name="all")
    # endpoints.yml names the app server (/model/parse never calls it) and a tracker store; no API token.
    env = dict(os.environ, RASA_TELEMETRY_ENABLED="false", HAMROH_APP_URL="http://127.0.0.1:9",
               HAMROH_INTERNAL_TOKEN="unused", HAMROH_TRACKER_STORE_URL=f"sqlite:///{model_dir / 'tracker.db'}")
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
    parser.add_argument("--seed", type=int, default=13, help="seed of the fold assignment")
    parser.add_argument("--folds", type=int, default=5, help="k of the k-fold cross-validation")
    parser.add_argument("--max-folds", type=int, help="run only the first N folds (quicker, noisier)")
    parser.add_argument("--skip-stock", action="store_true", help="only our pipeline (much faster)")
    parser.add_argument("--port", type=int, default=5097)
    parser.add_argument("--config", type=Path, default=ENGINE_DIR / "config.yml", help="our pipeline to measure")
    parser.add_argument("--skip-http", action="store_true", help="no HTTP latency and memory figures")
    parser.add_argument("--errors", type=Path, help="write our pipeline's misclassified messages here, per language")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)  # the engine's debug events would print every message
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

    crisis = heldout("crisis")
    ours: list[dict] = []
    stock: dict | None = None
    langid: dict[str, list[bool]] = defaultdict(list)
    for index, (train, test) in enumerate(folds(args.seed, args.folds)[: args.max_folds]):
        with tempfile.TemporaryDirectory() as tmp:
            data_dir = Path(tmp) / "nlu"
            data_dir.mkdir()
            write_nlu(train, data_dir)
            ours.append(evaluate("hamroh", fold_config(args.config, data_dir, Path(tmp)), data_dir, test, crisis))
            if index == 0 and not args.skip_stock:
                stock_config = Path(tmp) / "stock.yml"
                stock_config.write_text(yaml.safe_dump(STOCK_CONFIG))
                stock = evaluate("stock", stock_config, data_dir, test, crisis)
        for language, hits in language_id(train, test).items():
            langid[language] += hits
        print(f"fold {index + 1} of {args.folds}: done", file=sys.stderr, flush=True)
    summary = summarise(ours)
    if args.errors:
        write_errors(summary["errors"], args.errors)
    langid_accuracy = {language: sum(h) / len(h) for language, h in langid.items()}
    report(summary, langid_accuracy, sum(map(len, crisis.values())), args)
    if stock is not None:
        report_stock(summarise(ours[:1]), summarise([stock]))
    if args.skip_http:
        return
    with tempfile.TemporaryDirectory() as tmp:
        http = http_figures(Path(tmp), args.port, [text for _, _, text, _ in ours[0]["predictions"]][:300])
    print(f"hamroh over HTTP (trained on all data): startup {http['startup_s']:.1f} s, "
          f"parse p50 {http['p50_ms']:.1f} ms, p95 {http['p95_ms']:.1f} ms, "
          f"engine resident memory {http['rss_mb']:.0f} MB")


def fold_config(config: Path, data_dir: Path, directory: Path) -> Path:
    """A copy of `config` whose language detector trains on the fold's training files only."""
    document = yaml.safe_load(config.read_text(encoding="utf-8"))
    for component in document["pipeline"]:
        if "nlu_data_dir" in component:
            component["nlu_data_dir"] = str(data_dir)
    path = directory / "config.yml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


def report(summary: dict, langid: dict[str, float], crisis_phrasings: int, args: argparse.Namespace) -> None:
    """Print our pipeline's table (pooled over the folds) and its timings."""
    print(f"NLU benchmark, our pipeline: {summary['folds']} of {args.folds} folds (seed {args.seed}), "
          f"{summary['tested']} held-out messages; crisis held-out phrasings: {crisis_phrasings}")
    header = (f"{'lang':8} | {'accuracy':>8} {'weakest fold':>12} {'macro-F1':>8} {'fallback':>8} "
              f"{'crisis recall':>13} | {'lang-ID(3+ words)':>17}")
    print(header)
    print("-" * len(header))
    for language in LANGUAGES:
        print(f"{language:8} | {summary['accuracy'][language]:>8.3f} {summary['weakest_fold'][language]:>12.3f} "
              f"{summary['macro_f1'][language]:>8.3f} {summary['fallback'][language]:>8.3f} "
              f"{summary['crisis_recall'][language]:>13.3f} | {langid.get(language, 0):>17.3f}")
    print(f"hamroh: training {summary['train_s']:.1f} s per fold, parse in-process p50 {summary['p50_ms']:.1f} ms, "
          f"p95 {summary['p95_ms']:.1f} ms, mean accuracy {statistics.mean(summary['accuracy'].values()):.3f}")
    print("hamroh: most confused (gold → predicted, count): "
          + ", ".join(f"{gold}→{predicted} {count}" for (gold, predicted), count in summary["confused"]))
    sys.stdout.flush()


def report_stock(ours: dict, stock: dict) -> None:
    """Print Rasa's stock pipeline beside ours, both trained and tested on the first fold."""
    print("Stock pipeline (rasa init default, DIET) beside ours on fold 1 (same training and test data):")
    print(f"{'lang':8} | {'ours acc':>8} {'stock acc':>9} {'stock F1':>8} {'stock crisis':>12}")
    for language in LANGUAGES:
        print(f"{language:8} | {ours['accuracy'][language]:>8.3f} {stock['accuracy'][language]:>9.3f} "
              f"{stock['macro_f1'][language]:>8.3f} {stock['crisis_recall'][language]:>12.3f}")
    print(f"stock: training {stock['train_s']:.1f} s, parse in-process p50 {stock['p50_ms']:.1f} ms, "
          f"p95 {stock['p95_ms']:.1f} ms")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
