"""SMS through Twilio: inbound webhooks and status callbacks in, messages out (async client)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from sqlalchemy import select
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from bot.channels.gateway import Delivery, Inbound
from bot.channels.inputs import MAX_ADDRESS, MAX_ERROR_CODE, MAX_PROVIDER_ID, clean_text, is_identifier
from bot.channels.options import numbered_options
from bot.channels.rate_limit import RateLimiter, sending
from bot.channels.sms_text import sms_safe, split_body
from bot.db.models import ChannelIdentity, OutboundMessage
from bot.db.session import Database
from bot.repositories import identities

logger = logging.getLogger(__name__)
RECIPIENT_UNSUBSCRIBED = 21610
#: How far Twilio's clock may be behind ours when we look for a message we may have sent.
CLOCK_SKEW = timedelta(minutes=5)
STATUSES = {"queued", "sending", "sent", "delivered", "undelivered", "failed", "accepted"}


def make_client(account_sid: str, auth_token: str, api_base: str) -> Client:
    """A twilio client with the non-blocking HTTP client, talking to `api_base` (real or fake)."""
    client = Client(account_sid, auth_token, http_client=AsyncTwilioHttpClient())
    client.api.base_url = api_base
    return client


def signature_is_valid(auth_token: str, url: str, params: dict[str, str], signature: str) -> bool:
    """Twilio's `X-Twilio-Signature` check, with the URL as Twilio called it."""
    return bool(signature) and RequestValidator(auth_token).validate(url, params, signature)


def inbound_of(params: dict[str, str]) -> Inbound | None:
    """The message in a Twilio inbound-SMS webhook, or None if it lacks a valid sender or id."""
    sender, sid = params.get("From", ""), params.get("MessageSid", "")
    if not is_identifier(sender, MAX_ADDRESS) or not is_identifier(sid, MAX_PROVIDER_ID):
        return None
    body = clean_text(params.get("Body", ""))
    media = params.get("NumMedia", "0")
    kind = "unsupported" if not body.strip() and media not in ("", "0") else "text"
    return Inbound("sms", sender, sid, kind, body)


class SmsSender:
    """Sends replies as SMS: buttons become numbered options; long replies are split.

    The twilio client is made on first use: its async HTTP client needs the running event loop.
    """

    def __init__(self, make: Callable[[], Client], from_number: str, database: Database,
                 status_callback: str | None, limiter: RateLimiter | None = None) -> None:
        self._make = make
        self.limiter = limiter  # the configured messages per second for the sending number
        self._client: Client | None = None
        self.from_number = from_number
        self.database = database
        self.status_callback = status_callback

    def _record(self, identity_id: int, sid: str | None, status: str, error: str | None) -> None:
        with self.database.transaction() as session:
            session.add(OutboundMessage(channel="sms", identity_id=identity_id, provider_id=sid, status=status,
                                        error_code=error))
            if error == str(RECIPIENT_UNSUBSCRIBED):
                identity = session.get(ChannelIdentity, identity_id)
                assert identity is not None
                identities.set_opted_out(session, identity, True)

    async def close(self) -> None:
        """Close the HTTP session of the twilio client, if one was made."""
        if self._client is not None and isinstance(self._client.http_client, AsyncTwilioHttpClient):
            await self._client.http_client.close()

    def _client_now(self) -> Client:
        if self._client is None:
            self._client = self._make()
        return self._client

    async def send(self, identity_id: int, address: str, text: str, buttons: list[dict[str, Any]]) -> Delivery:
        client = self._client_now()
        for part in self.parts(text, buttons):
            try:
                async with sending(self.limiter):
                    message = await client.messages.create_async(
                        to=address, from_=self.from_number, body=part,
                        **({"status_callback": self.status_callback} if self.status_callback else {}),
                    )
            except TwilioRestException as error:
                await asyncio.to_thread(self._record, identity_id, None, "failed", str(error.code))
                if error.code == RECIPIENT_UNSUBSCRIBED:
                    return Delivery.OPTED_OUT
                if error.status == 429 or error.status >= 500:
                    return Delivery.RETRY
                return Delivery.FAILED
            except (aiohttp.ClientError, OSError) as error:
                logger.warning("sms send failed, will retry: %s", error.__class__.__name__)
                return Delivery.RETRY
            await asyncio.to_thread(self._record, identity_id, message.sid, message.status or "queued", None)
        return Delivery.SENT

    @staticmethod
    def parts(text: str, buttons: list[dict[str, Any]]) -> list[str]:
        """The SMS bodies a reply goes out as: numbered options added, GSM-safe, split."""
        body = "\n".join(part for part in (text, numbered_options(buttons)) if part)
        return split_body(sms_safe(body))

    async def delivered_since(
        self, address: str, text: str, buttons: list[dict[str, Any]], since: datetime
    ) -> bool | None:
        """Ask Twilio's message log whether this message's first part went to `address` since `since`."""
        first = self.parts(text, buttons)[0]
        try:  # newest first; a message still queued has no date_sent yet, so filter on date_created
            sent = await self._client_now().messages.list_async(to=address, from_=self.from_number, limit=20)
        except (TwilioRestException, aiohttp.ClientError, OSError):
            return None
        return any(message.body == first and message.date_created is not None
                   and message.date_created >= since - CLOCK_SKEW for message in sent)


def update_status(database: Database, params: dict[str, str]) -> bool:
    """Apply a Twilio status callback to the outbound message it names."""
    sid, status = params.get("MessageSid", ""), params.get("MessageStatus", "")
    error_code = params.get("ErrorCode", "")
    if not is_identifier(sid, MAX_PROVIDER_ID) or status not in STATUSES:
        return False
    if error_code and not is_identifier(error_code, MAX_ERROR_CODE):
        return False
    with database.transaction() as session:
        message = session.scalars(select(OutboundMessage).where(OutboundMessage.provider_id == sid)).first()
        if message is None:
            return False
        message.status = status
        message.error_code = error_code or message.error_code
        return True
