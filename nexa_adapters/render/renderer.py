"""Jinja2 + Babel rendering of vouchers and notifications.

Templates ship as package data under ``templates/<airline>/…`` with a shared
``_default`` set: per airline a layout (``voucher.html.j2``, ``voucher.txt.j2``,
``notification.txt.j2``, ``notification.html.j2``) and per locale a ``<lang>/labels.j2``
module holding every string. A tenant overrides any of them by shipping
``<airline code>/…`` in an extra loader. Dates, times and money are formatted with
Babel; every time shows its explicit UTC offset and zone.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from babel.dates import format_date, format_time
from babel.numbers import format_currency

from nexa_adapters.render.qr import qr_png
from nexa_core.care import LocalTime, NotificationType, RenderedMessage, VoucherContent
from nexa_core.care.document import qr_data_uri
from nexa_core.errors import ConfigurationError, RenderError
from nexa_core.model import Money

__all__ = ["DEFAULT_AIRLINE", "JinjaRenderer", "format_local", "format_money"]

#: the shared template set every airline falls back to
DEFAULT_AIRLINE = "_default"


def _as_local(value: LocalTime | datetime, timezone: str | None) -> LocalTime:
    if isinstance(value, LocalTime):
        return value
    tz = timezone or "UTC"
    return LocalTime(value.astimezone(ZoneInfo(tz)), tz)


def format_local(
    value: LocalTime | datetime, locale: str, timezone: str | None = None, *, part: str = "full"
) -> str:
    """A local date/time with the explicit offset, e.g. ``… 8:00 PM (UTC-03:00, America/Santiago)``.

    ``part``: ``full`` (date, time and offset), ``date``, ``time`` (time and offset).
    """
    lt = _as_local(value, timezone)
    zone = f"(UTC{lt.utc_offset}, {lt.timezone})"
    day = format_date(lt.at, "full", locale=locale)
    clock = format_time(lt.at, "short", locale=locale)
    if part == "date":
        return day
    if part == "time":
        return f"{clock} {zone}"
    return f"{day}, {clock} {zone}"


def format_money(value: Money, locale: str) -> str:
    """Money in the locale's currency format."""
    return str(format_currency(value.amount, value.currency, locale=locale))


class JinjaRenderer:
    """The :class:`~nexa_core.care.MessageRenderer` over Jinja2 templates and Babel."""

    def __init__(self, *, loader: jinja2.BaseLoader | None = None) -> None:
        loaders: list[jinja2.BaseLoader] = []
        if loader is not None:
            loaders.append(loader)
        loaders.append(jinja2.PackageLoader("nexa_adapters.render", "templates"))
        self.env = jinja2.Environment(
            loader=jinja2.ChoiceLoader(loaders),
            autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",)),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            auto_reload=False,  # package data: compiled once, never re-checked per render
        )
        self.env.filters["local"] = format_local
        self.env.filters["money"] = format_money
        self._languages: dict[str, frozenset[str]] = {}
        self._label_modules: dict[tuple[str, str], Any] = {}

    # ------------------------------------------------------------------ lookup

    def languages(self, airline_code: str) -> frozenset[str]:
        """Locales with a ``labels.j2`` for the airline or the shared set."""
        known = self._languages.get(airline_code)
        if known is not None:
            return known
        out = set()
        for name in self.env.list_templates(filter_func=lambda n: n.endswith("/labels.j2")):
            owner, lang, _ = name.split("/", 2)
            if owner in (airline_code, DEFAULT_AIRLINE):
                out.add(lang)
        self._languages[airline_code] = frozenset(out)
        return self._languages[airline_code]

    def _template(self, airline: str, name: str) -> jinja2.Template:
        return self.env.select_template([f"{airline}/{name}", f"{DEFAULT_AIRLINE}/{name}"])

    def _labels(self, airline: str, language: str) -> Any:
        if language not in self.languages(airline):
            raise ConfigurationError(
                f"no templates for language {language!r} (airline {airline})",
                language=language,
            )
        key = (airline, language)
        module = self._label_modules.get(key)
        if module is None:  # the strings of one language: built once
            module = self._template(airline, f"{language}/labels.j2").make_module(
                {"locale": language}
            )
            self._label_modules[key] = module
        return module

    # ------------------------------------------------------------------ rendering

    def qr_png(self, payload: str) -> bytes:
        """The QR code of ``payload`` as PNG bytes (RenderError when it cannot be built)."""
        return _qr(payload)

    def render_voucher(self, voucher: VoucherContent, language: str) -> RenderedMessage:
        """HTML (with the QR as a PNG data URI) and plain text; the QR PNG is attached."""
        airline = voucher.airline_code
        labels = self._labels(airline, language)
        png = _qr(voucher.qr_payload)
        ctx = {"v": voucher, "L": labels, "locale": language, "qr": qr_data_uri(png)}
        try:
            html = self._template(airline, "voucher.html.j2").render(ctx)
            text = self._template(airline, "voucher.txt.j2").render(ctx)
        except jinja2.TemplateError as exc:
            raise RenderError(
                f"voucher template for {airline}/{language} failed: {exc}", language=language
            ) from exc
        subject = f"{labels.title} {voucher.confirmation_code}"
        return RenderedMessage(subject, text, html, (("voucher-qr.png", "image/png", png),))

    def render_notification(
        self,
        type: NotificationType,
        language: str,
        airline_code: str,
        data: Mapping[str, Any],
    ) -> RenderedMessage:
        """Subject, text and HTML for one notification type."""
        labels = self._labels(airline_code, language)
        ctx = {"t": type.value, "d": data, "L": labels, "locale": language}
        try:
            subject = str(labels.subjects[type.value]).format(**_subject_values(data))
            text = self._template(airline_code, "notification.txt.j2").render(ctx)
            html = self._template(airline_code, "notification.html.j2").render(
                {**ctx, "subject": subject}
            )
        except (jinja2.TemplateError, KeyError, AttributeError, TypeError) as exc:
            raise RenderError(
                f"{type.value} template for {airline_code}/{language} failed: {exc}",
                language=language,
                type=type.value,
            ) from exc
        return RenderedMessage(subject, text, html)


@functools.lru_cache(maxsize=512)
def _qr(payload: str) -> bytes:
    """One QR PNG per payload (cached: the voucher email and the passenger document of a
    sub-case usually render the same code in the same process)."""
    if not payload or len(payload) > 1000:
        raise RenderError("a QR code needs a payload of 1 to 1000 characters", size=len(payload))
    try:
        return qr_png(payload)
    except Exception as exc:  # segno's errors are plain exceptions
        raise RenderError(f"the QR code cannot be built: {exc}") from exc


def _subject_values(data: Mapping[str, Any]) -> dict[str, str]:
    flight = data.get("disrupted_flight")
    voucher = data.get("voucher")
    return {
        "flight": getattr(flight, "number", ""),
        "code": getattr(voucher, "confirmation_code", ""),
        "hotel": getattr(getattr(voucher, "hotel", None), "name", ""),
        "pnr": str(data.get("pnr", "")),
    }
