"""Local fakes of the Telegram Bot API and the Twilio REST API (real HTTP on loopback).

The tests assert on what they received; `hamroh chat --via-gateway` uses them so both
channels can be seen offline.
"""
