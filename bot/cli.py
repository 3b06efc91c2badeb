"""The `hamroh` command line."""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import subprocess
import sys
import uuid
from typing import Any

from bot.admin.cli import add_admin_parser, run_admin
from bot.flows.cli import add_flows_parser, run_flows
from bot.nlp.languages import LANGUAGES
from bot.settings import get_settings


def _say(message: str) -> None:
    print(f"hamroh: {message}", file=sys.stderr, flush=True)


def parse_summary(text: str, result: dict[str, Any]) -> dict[str, Any]:
    """The fields `hamroh nlu parse` prints for one message."""
    intent = result.get("intent") or {}
    language = result.get("language") or {}
    return {
        "text": text,
        "intent": intent.get("name"),
        "confidence": intent.get("confidence"),
        "language": language.get("name"),
        "language_confidence": language.get("confidence"),
        "entities": [
            {"entity": e.get("entity"), "value": e.get("value"), "text": e.get("text", "")}
            for e in result.get("entities") or []
        ],
    }


async def _nlu_parse() -> None:
    from bot.engine.services import running_services
    from bot.nlp.normalize import normalize_text

    async with running_services(get_settings(), progress=_say) as client:
        for line in sys.stdin:
            text = normalize_text(line)
            result = await client.parse(text) if text else {}
            print(json.dumps(parse_summary(text, result), ensure_ascii=False), flush=True)


async def _chat(args: argparse.Namespace) -> None:
    if args.via_gateway:
        from bot.demo_channels import chat_via_gateway

        number = str(secrets.randbelow(9_000_000) + 1_000_000)  # someone new each time, unless --user
        default = f"99890{number}" if args.channel == "telegram" else f"+99890{number}"
        await chat_via_gateway(args.channel, args.user or default)
        return
    from bot import runtime
    from bot.channels.inbound import InboundChain
    from bot.chat import chat, start_in
    from bot.engine.services import running_services

    settings = get_settings()
    database = runtime.database()
    address = args.user or uuid.uuid4().hex
    if args.lang:
        start_in(database, args.channel, address, args.lang)
    async with running_services(settings, progress=_say) as client:
        if sys.stdin.isatty():
            _say("ready: write a message (Ctrl-D to quit)")
        await chat(InboundChain(database, client, runtime.catalog(), settings), args.channel, address)


def _serve() -> None:
    from bot import runtime
    from bot.console.app import create_console
    from bot.web.app import build_channels, create_app
    from bot.web.listeners import bind, server

    settings = get_settings().for_serving()
    sockets = [bind(settings.app_host, settings.app_port), bind(settings.internal_host, settings.internal_port)]
    database = runtime.database()
    channels = build_channels(settings, database, runtime.catalog())
    senders = channels.gateway.senders if channels is not None else {}
    app = create_app(settings, channels, create_console(settings, database, senders=senders,
                                                        catalog=runtime.catalog()))
    server(app).run(sockets)


async def _telegram_register() -> None:
    from bot.channels.telegram import make_bot, register

    settings = get_settings().for_serving()  # outside production, the generated webhook secret `serve` uses
    if not (settings.telegram_bot_token and settings.public_base_url):
        raise RuntimeError("set HAMROH_TELEGRAM_BOT_TOKEN and HAMROH_PUBLIC_BASE_URL")
    bot = make_bot(settings.telegram_bot_token, settings.telegram_api_base)
    try:
        url = f"{settings.public_base_url.rstrip('/')}/telegram/webhook"
        await register(bot, url, settings.telegram_webhook_secret)
    finally:
        await bot.session.close()
    print("webhook and commands registered")


def _train() -> None:
    from bot.engine.model import ensure_model

    print(ensure_model(get_settings()))


def _bench_nlu(extra: list[str]) -> int:
    from bot.engine.model import ENGINE_DIR, engine_environment

    python = get_settings().engine_venv / "bin" / "python"
    command = [str(python), str(ENGINE_DIR / "bench_nlu.py"), *extra]
    return subprocess.call(command, env=engine_environment(), cwd=ENGINE_DIR)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand and its help."""
    parser = argparse.ArgumentParser(prog="hamroh", description="Hamroh, a multilingual support assistant.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    chat = commands.add_parser("chat", help="talk to the assistant in the terminal (reads stdin line by line)")
    chat.add_argument("--channel", choices=["telegram", "sms", "terminal"], default="terminal",
                      help="show replies as this channel would (sms: numbered options)")
    chat.add_argument("--user", help="who you are on that channel (a phone, a Telegram id; default: someone new);"
                      " the sample data links 'demo' on the terminal channel")
    chat.add_argument("--lang", choices=LANGUAGES, help="language to start in (default: detected)")
    chat.add_argument("--via-gateway", action="store_true",
                      help="go through the real Telegram/SMS webhooks to local fake provider APIs (offline)")

    nlu = commands.add_parser("nlu", help="natural-language understanding tools")
    nlu_commands = nlu.add_subparsers(dest="nlu_command", required=True, metavar="NLU_COMMAND")
    nlu_commands.add_parser("parse", help="parse stdin lines; print one JSON object per line")

    commands.add_parser("serve", help="run the app server: channel webhooks on HAMROH_APP_HOST/PORT, the engine's"
                        " actions and replies on HAMROH_INTERNAL_HOST/PORT (Telegram long polling instead with"
                        " HAMROH_TELEGRAM_POLLING=true); HAMROH_ENV=production refuses to start without its secrets")
    telegram = commands.add_parser("telegram", help="Telegram set-up")
    telegram.add_subparsers(dest="telegram_command", required=True, metavar="ACTION").add_parser(
        "register", help="set the webhook (with its secret token) and the bot commands /start /help /language")
    commands.add_parser("train", help="train the engine's model if its inputs changed; print its path")
    bench = commands.add_parser("bench", help="benchmarks that print figures")
    bench_commands = bench.add_subparsers(dest="bench_command", required=True, metavar="BENCH")
    bench_nlu = bench_commands.add_parser("nlu", help="intent/language accuracy, crisis recall, latency, memory")
    bench_nlu.add_argument("--skip-stock", action="store_true", help="only our pipeline (minutes faster)")
    bench_nlu.add_argument("--seed", type=int, default=13, help="seed of the fold assignment")
    bench_nlu.add_argument("--folds", type=int, default=5, help="k of the k-fold cross-validation")
    add_admin_parser(commands)
    add_flows_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the `hamroh` command; return its exit code."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "chat":
            asyncio.run(_chat(args))
        elif args.command == "nlu":
            asyncio.run(_nlu_parse())
        elif args.command == "serve":
            _serve()
        elif args.command == "train":
            _train()
        elif args.command == "bench":
            options = ["--seed", str(args.seed), "--folds", str(args.folds)]
            return _bench_nlu(options + (["--skip-stock"] if args.skip_stock else []))
        elif args.command == "admin":
            return run_admin(args)
        elif args.command == "flows":
            return run_flows(args)
        elif args.command == "telegram":
            asyncio.run(_telegram_register())
    except KeyboardInterrupt:
        return 130
    except RuntimeError as error:
        print(f"hamroh: {error}", file=sys.stderr)
        return 1
    return 0
