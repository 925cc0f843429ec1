"""OAuth 1.0a user-context signatures, for the few X endpoints that take nothing else: the
files customers send in DMs (``ton.twitter.com``, and the videos and GIFs of DMs on
``video.twimg.com``) are served only to a GET signed for the account.

The signature (HMAC-SHA1 over the method, the URL and the OAuth parameters, keyed with the
consumer secret and the token secret) is made by ``oauthlib``, not by hand. Settings, with X's
own names: ``consumer_key`` and ``consumer_secret`` (the app's API key and secret; the secret
also signs webhooks), ``oauth_token`` and ``oauth_token_secret`` (the account's access token
and secret, from the developer portal). None of them is ever logged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from oauthlib.oauth1 import Client

SETTINGS = ("consumer_key", "consumer_secret", "oauth_token", "oauth_token_secret")


def has_oauth1(settings: Mapping[str, Any]) -> bool:
    """Are the four OAuth 1.0a settings there?"""
    return all(isinstance(settings.get(name), str) and settings[name] for name in SETTINGS)


def authorization(settings: Mapping[str, Any], method: str, url: str) -> str:
    """The ``Authorization: OAuth …`` header of a request without a body (a GET)."""
    client = Client(
        settings["consumer_key"],
        client_secret=settings["consumer_secret"],
        resource_owner_key=settings["oauth_token"],
        resource_owner_secret=settings["oauth_token_secret"],
    )
    _, headers, _ = client.sign(url, http_method=method)
    return str(headers["Authorization"])
