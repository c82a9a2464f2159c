"""Natural language → policy draft, by rules (English, Spanish, Portuguese).

:func:`synthesize_rules` reads sentences such as "Economy: 3-star within 20 km, up to USD
120 a night, three meals of USD 15; business gets 4 stars and a private car" and returns a
*draft*: ``{"source", "modelVersion", "confidence", "policy", "warnings"}`` where
``policy`` is a policy document (the camelCase shape of ``nexa policy validate``) and
``warnings`` lists ``{"field", "message"}`` for what could not be read. It never activates
anything and is deterministic (same text, same draft).

How the text is read:

* tier words open a scope that lasts until the next tier word ("economy", "business",
  "first", "premium economy", "crew", "VIP" = BUSINESS + FIRST, "everyone" = every tier,
  and their Spanish/Portuguese forms); text before any tier word applies to every tier
  named in the text (or every tier when none is);
* each scope is cut into clauses (``,`` ``;`` ``.`` and "and"/"y"/"e"); a clause counts as
  understood when a rule reads it: stars, distance (km or miles), nightly rate, meals
  (``N meals of X`` → a daily allowance of N×X, three meals as breakfast/lunch/dinner
  drops), transport vehicle and dispatch, hotel amenities, excluded chains (left as
  ``<NAME>_PLACEHOLDER`` with a warning: chain ids are not resolved), check-in/out
  buffers, automatic approval up to N rooms, regulations (EU261, ANAC 400, APPR, DOT);
* ``confidence`` is the share of clauses understood, less 0.05 per warning (0 when
  nothing is understood). Amounts without a currency take the context's currency (or USD)
  with a warning.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from nexa_core.model import Tier
from nexa_core.tenancy import TenantContext

__all__ = ["MODEL_VERSION", "RuleBasedSynthesizer", "synthesize_rules"]

MODEL_VERSION = "nexa-policy-rules-1"
_ALL = tuple(Tier)
_ORDER = {t: i for i, t in enumerate(Tier)}


def _fold(text: str) -> str:
    """Lower-case without accents (``económica`` → ``economica``)."""
    norm = unicodedata.normalize("NFKD", text)
    return "".join(c for c in norm if not unicodedata.combining(c)).lower()


_TIER_WORDS: tuple[tuple[str, tuple[Tier, ...]], ...] = (
    (
        r"premium economy|premium|economica premium|economy plus|turista premium",
        (Tier.PREMIUM_ECONOMY,),
    ),
    (r"economy|coach|economica|turista|clase turista|classe economica", (Tier.ECONOMY,)),
    (r"business|ejecutiva|executiva|negocios", (Tier.BUSINESS,)),
    (r"first class|first|primera clase|primera|primeira classe|primeira", (Tier.FIRST,)),
    (r"crew|tripulacion|tripulantes|tripulacao", (Tier.CREW,)),
    (r"vip", (Tier.BUSINESS, Tier.FIRST)),
    (
        r"everyone|all passengers|all tiers|every tier|todos los pasajeros|todos os passageiros"
        r"|todas las clases|todas as classes",
        _ALL,
    ),
)
_TIER_RE = re.compile(
    r"\b(" + "|".join(f"(?:{w})" for w, _ in _TIER_WORDS) + r")\b(?:\s+class|\s+clase|\s+classe)?"
)
_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
    "un": 1, "una": 1, "uno": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5,
    "um": 1, "uma": 1, "duas": 2, "quatro": 4,
}  # fmt: skip
_NUM = (
    r"(\d+(?:[.,]\d+)?|one|two|three|four|five|un|una|uno|dos|tres|cuatro|cinco|um|uma|duas|quatro)"
)
_CURRENCY_WORDS = {
    "usd": "USD", "us$": "USD", "$": "USD", "dollars": "USD", "dolares": "USD", "dolar": "USD",
    "eur": "EUR", "€": "EUR", "euros": "EUR", "euro": "EUR",
    "brl": "BRL", "r$": "BRL", "reais": "BRL", "real": "BRL",
    "clp": "CLP", "ars": "ARS", "mxn": "MXN", "cop": "COP", "pen": "PEN", "gbp": "GBP",
    "£": "GBP", "cad": "CAD", "pesos": None,
}  # fmt: skip
_CUR = r"(usd|us\$|r\$|\$|eur|€|brl|clp|ars|mxn|cop|pen|gbp|£|cad)"
_CUR_AFTER = r"(usd|eur|brl|clp|ars|mxn|cop|pen|gbp|cad|dollars|dolares|euros|reais|pesos)"
_MONEY = rf"(?:{_CUR}\s?(\d+(?:[.,]\d{{1,2}})?)(?!\d)|(?<!\d)(\d+(?:[.,]\d{{1,2}})?)(?!\d)\s?{_CUR_AFTER}?)"
_MONEY_RE = re.compile(_MONEY)
_NIGHT = r"(?:a night|per night|each night|nightly|/night|por noche|la noche|por noite|a noite|cada noche|cada noite|por diaria|a diaria)"
_DAY = r"(?:a day|per day|daily|por dia|al dia|ao dia|diarios?)"
_MEAL = r"(?:meals?|comidas?|refeicoes|refeicao|alimentacion|alimentacao|vouchers? de comida)"
_STAR = r"(?:stars?|estrellas?|estrelas?|\*|★)"
#: words that carry no rule on their own ("economy passengers get …")
_FILLER = re.compile(
    r"\b(?:passengers?|pax|pasajeros?|passageiros?|travell?ers|gets?|get|receive|have|has|"
    r"tienen|reciben|recebem|tem|the|a|an|los|las|el|la|os|as|o|de|do|da|hotels?|hoteles|hoteis|"
    r"class|clase|classe|only|solo|apenas|also|tambien|tambem|should|must|deben|devem)\b"
)
_SPLIT = re.compile(r"[;,.:\n]|\s(?:and|y|e|plus|mas|con|com|with)\s")
_AMENITIES = (
    (r"breakfast|desayuno|cafe da manha", "FREE_BREAKFAST"),
    (r"24\s?h(?:ours?|oras)?\s?(?:reception|front desk)|recepcion 24|recepcao 24|reception 24", "24H_RECEPTION"),
    (r"wi-?fi|internet", "WIFI"),
    (r"wheelchair|accessible|accesible|acessive|silla de ruedas|cadeira de rodas", "WHEELCHAIR_ACCESSIBLE"),
    (r"hotel shuttle|airport shuttle|shuttle to the airport|traslado al aeropuerto incluido", "AIRPORT_SHUTTLE"),
    (r"gym|gimnasio|academia", "FITNESS_CENTER"),
    (r"restaurant|restaurante", "RESTAURANT"),
)  # fmt: skip
_REGULATIONS = (
    (r"eu\s?261", "EU261"),
    (r"anac\s?(?:resolu[a-z]+\s?)?n?[o°º]?\s?400", "ANAC400"),
    (r"\bappr\b", "APPR"),
    (r"\bdot\b", "DOT"),
)


def _number(text: str) -> Decimal:
    if text in _NUMBER_WORDS:
        return Decimal(_NUMBER_WORDS[text])
    return Decimal(text.replace(",", "."))


def _money(m: re.Match[str]) -> tuple[Decimal, str | None]:
    cur_before, amount_before, amount_after, cur_after = m.groups()[-4:]
    amount = _number(amount_before or amount_after)
    word = (cur_before or cur_after or "").lower()
    return amount, _CURRENCY_WORDS.get(word) if word else None


def _plain(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


class _Reader:
    """State of one synthesis: fields per tier, globals, warnings, clause counts."""

    def __init__(self, default_currency: str | None) -> None:
        self.default_currency = default_currency
        self.currencies: list[str] = []
        self.constraints: dict[Tier, dict[str, Any]] = {}
        self.meals: dict[Tier, Decimal] = {}
        self.meal_counts: set[int] = set()
        self.transport: dict[Tier, dict[str, str]] = {}
        self.top: dict[str, Any] = {}
        self.warnings: list[dict[str, str]] = []
        self.clauses = 0
        self.understood = 0

    def warn(self, field: str, message: str) -> None:
        self.warnings.append({"field": field, "message": message})

    def currency(self, found: str | None, field: str, amount: Decimal) -> None:
        if found is not None:
            if self.currencies and found != self.currencies[0]:
                self.warn(
                    field, f"{found} differs from {self.currencies[0]}; kept {self.currencies[0]}"
                )
            else:
                self.currencies.append(found)
        elif not self.currencies and self.default_currency is None:
            self.warn(field, f"amount {_plain(amount)} has no currency; assumed USD")

    def clause(self, clause: str, tiers: tuple[Tier, ...]) -> None:
        c = clause.strip()
        if not re.search(r"[a-z0-9€£$]", _FILLER.sub(" ", c)):
            return
        self.clauses += 1
        if self._read(c, tiers):
            self.understood += 1

    def _put(self, tiers: tuple[Tier, ...], key: str, value: Any) -> None:
        for t in tiers:
            self.constraints.setdefault(t, {})[key] = value

    def _read(self, c: str, tiers: tuple[Tier, ...]) -> bool:
        hit = False
        where = tiers[0].value if len(tiers) == 1 else "*"
        m = re.search(rf"\b{_NUM}\s?(?:\+|or more|o mas|ou mais)?\s?-?\s?{_STAR}", c)
        if m:
            stars = int(_number(m.group(1)))
            if 1 <= stars <= 5:
                self._put(tiers, "minStars", stars)
            else:
                self.warn(f"constraints.{where}.minStars", f"{stars} stars is outside 1-5")
            hit = True
        m = re.search(
            r"(\d+(?:[.,]\d+)?)\s?(km|kms|kilometers|kilometres|kilometros|quilometros|miles|mi)\b",
            c,
        )
        if m:
            value = _number(m.group(1))
            km = value * Decimal("1.609344") if m.group(2) in ("miles", "mi") else value
            self._put(tiers, "maxDistanceKm", _plain(km.quantize(Decimal("0.1"))))
            hit = True
        meal_at = re.search(rf"(?:\b{_NUM}\s)?{_MEAL}\b", c)
        night = re.search(rf"{_MONEY}\s?{_NIGHT}", c) or re.search(
            rf"(?:diaria|nightly rate|room rate|tarifa|rate)\s(?:de\s|of\s)?(?:ate\s|hasta\s|up to\s)?{_MONEY}",
            c,
        )
        ceiling = re.search(
            rf"(?:up to|hasta|ate|max(?:imum)?|no more than)\s{_MONEY}(?!\s?(?:km|kms|mi\b|miles|kilo|quilo|rooms|habitac|quartos))",
            c,
        )
        if meal_at:
            after = _MONEY_RE.search(c, meal_at.end())
            before = _MONEY_RE.search(c[: meal_at.start()])
            found = after or before
            if found is not None and (found.group(1) or found.group(4) or after is not None):
                count = int(_number(meal_at.group(1))) if meal_at.group(1) else 1
                amount, cur = _money(found)
                per_day = amount * count
                self.currency(cur, f"meals.allowance.{where}", amount)
                for t in tiers:
                    self.meals[t] = per_day
                self.meal_counts.add(count)
                hit = True
        elif night or ceiling:
            mm = night or ceiling
            assert mm is not None
            amount, cur = _money(mm)
            self.currency(cur, f"constraints.{where}.maxNightlyRate", amount)
            self._put(tiers, "maxNightlyRate", _plain(amount))
            if not night:
                self.warn(
                    f"constraints.{where}.maxNightlyRate",
                    f"read 'up to {_plain(amount)}' as the nightly rate ceiling",
                )
            hit = True
        if re.search(
            r"private car|carro privado|auto privado|coche privado|vehiculo privado|taxi|remis|chauffeur",
            c,
        ):
            for t in tiers:
                self.transport.setdefault(t, {})["vehicle"] = "PRIVATE_CAR"
            hit = True
        elif re.search(r"\bshuttle\b|\bvan\b|traslado|transfer|onibus|bus\b", c) and not re.search(
            r"hotel shuttle|airport shuttle", c
        ):
            for t in tiers:
                self.transport.setdefault(t, {})["vehicle"] = "SHUTTLE"
            hit = True
        if re.search(r"on demand|on request|a pedido|bajo demanda|sob demanda|a demanda", c):
            for t in tiers:
                self.transport.setdefault(t, {})["dispatch"] = "ON_DEMAND"
            hit = True
        elif re.search(
            r"automatic(?:ally)? (?:dispatch|transport)|transporte automatico|dispatched automatically",
            c,
        ):
            for t in tiers:
                self.transport.setdefault(t, {})["dispatch"] = "AUTOMATIC"
            hit = True
        for pattern, tag in _AMENITIES:
            if re.search(pattern, c):
                for t in tiers:
                    amen = self.constraints.setdefault(t, {}).setdefault("requiredAmenities", [])
                    if tag not in amen:
                        amen.append(tag)
                hit = True
        m = re.search(
            r"(?:no|not|exclude|excluding|except|avoid|sin|sem|excepto|exceto|evitar)\s"
            r"(?:(?:the|of|de|la|el|da|do|chain|cadena|rede|hotels?|hoteles|hoteis)\s)*"
            r"([a-z][a-z0-9&' -]{1,40}?)\s?"
            r"(?:hotels?|hoteles|hoteis|chain|cadena|rede)?$",
            c,
        )
        if m and not hit and m.group(1).strip() not in ("more than", "mas de", "mais de"):
            name = re.sub(r"[^A-Z0-9]+", "_", m.group(1).strip().upper()).strip("_")
            placeholder = f"{name}_PLACEHOLDER"
            for t in tiers:
                chains = self.constraints.setdefault(t, {}).setdefault("excludedChains", [])
                if placeholder not in chains:
                    chains.append(placeholder)
            self.warn(
                f"constraints.{where}.excludedChains",
                f"chain {m.group(1).strip()!r} is not resolved to a chain id: replace {placeholder}",
            )
            hit = True
        m = re.search(
            r"late check-?out(?:\sof|\sde|\sat[eé])?\s(\d+)\s?(h|hours?|horas?|min|minutes?|minutos?)"
            r"|(?:checkout|check-out|salida) tardi[oa] (?:de )?(\d+)\s?(h|horas?|min|minutos?)",
            c,
        )
        if m:
            qty, unit = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
            minutes = int(qty) * (60 if unit.startswith("h") else 1)
            self.top.setdefault("buffers", {})["lateCheckoutMinutes"] = minutes
            hit = True
        m = re.search(
            r"early check-?in(?:\sof|\sde)?\s(\d+)\s?(h|hours?|horas?|min|minutes?|minutos?)"
            r"|check-?in (?:antecipado|anticipado|temprano) (?:de )?(\d+)\s?(h|horas?|min|minutos?)",
            c,
        )
        if m:
            qty, unit = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
            minutes = int(qty) * (60 if unit.startswith("h") else 1)
            self.top.setdefault("buffers", {})["earlyCheckInMinutes"] = minutes
            hit = True
        m = re.search(
            r"(?:auto-?approve|approve automatically|automatically approve|aprobar automaticamente|"
            r"aprovar automaticamente|aprobacion automatica|aprovacao automatica)"
            r"[a-z ]*?(?:up to|hasta|ate)\s(\d+)\s(?:rooms|habitaciones|quartos)",
            c,
        )
        if m:
            self.top["autoApproveDemand"] = True
            self.top["maxAutomaticRoomsPerWave"] = int(m.group(1))
            hit = True
        for pattern, code in _REGULATIONS:
            if re.search(pattern, c):
                regs = self.top.setdefault("regulations", [])
                if code not in regs:
                    regs.append(code)
                hit = True
        return hit


def _scopes(text: str) -> tuple[list[tuple[tuple[Tier, ...], str]], tuple[Tier, ...]]:
    """(tiers, text) pieces in order, and every tier named."""
    pieces: list[tuple[tuple[Tier, ...], str]] = []
    named: list[Tier] = []
    last = 0
    current: tuple[Tier, ...] | None = None
    for m in _TIER_RE.finditer(text):
        word = m.group(1)
        tiers = next(ts for w, ts in _TIER_WORDS if re.fullmatch(w, word))
        pieces.append((current or (), text[last : m.start()]))
        current = tiers
        named.extend(t for t in tiers if t not in named)
        last = m.end()
    pieces.append((current or (), text[last:]))
    return pieces, tuple(sorted(named, key=_ORDER.__getitem__))


def synthesize_rules(description: str, context: Mapping[str, str] | None = None) -> dict[str, Any]:
    """A policy draft read from ``description`` (see the module docstring).

    ``context`` may carry ``airline``, ``airport``, ``country``, ``currency`` and ``name``.
    """
    ctx = dict(context or {})
    text = _fold(description)[:20_000]
    pieces, named = _scopes(text)
    tiers = named or _ALL
    reader = _Reader(ctx.get("currency"))
    for scope, piece in pieces:
        for clause in _SPLIT.split(piece):
            reader.clause(clause, scope or tiers)
    policy: dict[str, Any] = {
        "name": ctx.get("name") or "Draft from text",
        "context": {k: ctx[k] for k in ("airline", "airport", "country") if ctx.get(k)},
        "tiers": [t.value for t in tiers],
    }
    warnings = reader.warnings
    if reader.understood == 0:
        warnings.append(
            {"field": "$", "message": "nothing in the text was recognised as a policy rule"}
        )
        return {
            "source": "rules",
            "modelVersion": MODEL_VERSION,
            "confidence": 0.0,
            "policy": policy,
            "warnings": warnings,
        }
    if not named:
        warnings.append(
            {"field": "tiers", "message": "no tier named: the rules apply to every tier"}
        )
    currency = (reader.currencies[0] if reader.currencies else None) or ctx.get("currency")
    if reader.constraints or reader.meals or reader.transport:
        policy["currency"] = currency or "USD"
    if reader.constraints:
        policy["constraints"] = {
            t.value: reader.constraints[t]
            for t in sorted(reader.constraints, key=_ORDER.__getitem__)
            if t in tiers
        }
    if reader.meals:
        policy["meals"] = {
            "allowance": {
                t.value: _plain(reader.meals[t])
                for t in sorted(reader.meals, key=_ORDER.__getitem__)
                if t in tiers
            },
            "schedule": "drops" if 3 in reader.meal_counts else "single",
        }
    if reader.transport:
        policy["transport"] = {
            "perTier": {
                t.value: reader.transport[t]
                for t in sorted(reader.transport, key=_ORDER.__getitem__)
                if t in tiers
            }
        }
    policy.update(reader.top)
    share = reader.understood / max(reader.clauses, 1)
    confidence = max(0.0, min(1.0, share - 0.05 * len(warnings)))
    return {
        "source": "rules",
        "modelVersion": MODEL_VERSION,
        "confidence": round(confidence, 2),
        "policy": policy,
        "warnings": warnings,
    }


class RuleBasedSynthesizer:
    """The default :class:`~nexa_core.ports.PolicySynthesizer` (deterministic rules)."""

    name = "rules"

    async def synthesize(
        self, tenant: TenantContext, description: str, context: Mapping[str, str]
    ) -> Mapping[str, Any]:
        """The draft of :func:`synthesize_rules` (the tenant's airline fills the context)."""
        ctx = {"airline": tenant.airline_urn.id, **dict(context)}
        return synthesize_rules(description, ctx)
