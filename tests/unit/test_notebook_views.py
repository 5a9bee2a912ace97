"""The notebook's connection banner renders a masked URL as text, never as Markdown emphasis."""

from __future__ import annotations

import html
import json
import re

from daglab._notebooks import views
from daglab._session import Connection
from daglab._url import SafeUrl


def _banner(url: str) -> str:
    conn = Connection(url=str(SafeUrl(url)), client=object(), loaded=None, version="1.13.0")  # type: ignore[arg-type]
    callout = str(views.connection_status(conn).text)
    found = re.search(r"data-html='([^']*)'", callout)
    assert found, callout
    return str(json.loads(html.unescape(found.group(1))))  # the callout's body, as HTML


def test_masked_credentials_stay_literal_and_are_not_linked() -> None:
    text = _banner("http://alice:s3cret-pass@127.0.0.1:3000/?token=abcdef123456")
    assert "s3cret-pass" not in text
    assert "abcdef123456" not in text
    assert "<code>" in text and "***" in text  # the asterisks are shown, in a code span
    assert "<strong>@" not in text and "<em>" not in text
    assert "href" not in text


def test_a_plain_url_is_a_link() -> None:
    text = _banner("http://127.0.0.1:3000")
    assert 'href="http://127.0.0.1:3000"' in text
    assert "1.13.0" in text
