"""A respx-driven Hotelbeds APItude stand-in answering with the published shapes."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import httpx
import respx

BASE = "https://api.test.hotelbeds.com"
ENV = {
    "NEXA_SECRET__LAN__HOTELBEDS__API_KEY": "hb-key-lan",
    "NEXA_SECRET__LAN__HOTELBEDS__SECRET": "hb-secret-lan",
}
AUDIT = {
    "processTime": "153",
    "timestamp": "2026-05-05 12:00:00.000",
    "requestHost": "10.0.0.1",
    "serverId": "ip-10-0-0-2",
    "environment": "[awseuwest1, awseuwest1a, ip_10_0_0_2]",
    "release": "",
    "token": "C0FFEE",
    "internal": "0|...",
}


def rate(
    key: str, net: str, board: str, rate_type: str = "BOOKABLE", allot: int = 5
) -> dict[str, Any]:
    return {
        "rateKey": key,
        "rateClass": "NOR",
        "rateType": rate_type,
        "net": net,
        "allotment": allot,
        "paymentType": "AT_WEB",
        "packaging": False,
        "boardCode": board,
        "boardName": {"RO": "ROOM ONLY", "BB": "BED AND BREAKFAST", "HB": "HALF BOARD"}.get(
            board, board
        ),
        "cancellationPolicies": [{"amount": net, "from": "2026-05-04T23:59:00-04:00"}],
        "rooms": 1,
        "adults": 1,
        "children": 0,
    }


AVAILABILITY = {
    "auditData": AUDIT,
    "hotels": {
        "hotels": [
            {
                "code": 168471,
                "name": "Holiday Inn Santiago Airport",
                "categoryCode": "4EST",
                "categoryName": "4 STARS",
                "destinationCode": "SCL",
                "destinationName": "Santiago de Chile",
                "zoneCode": 1,
                "zoneName": "Pudahuel",
                "latitude": "-33.3906",
                "longitude": "-70.7923",
                "rooms": [
                    {
                        "code": "DBL.ST",
                        "name": "DOUBLE STANDARD",
                        "rates": [
                            rate(
                                "20260505|20260506|W|1|168471|DBL.ST|ID_B2B_26|BB||1~1~0||N@1",
                                "98.40",
                                "BB",
                            ),
                            rate(
                                "20260505|20260506|W|1|168471|DBL.ST|ID_B2B_26|RO||1~1~0||N@2",
                                "90.00",
                                "RO",
                                "RECHECK",
                            ),
                        ],
                    },
                    {
                        "code": "TWN.ST",
                        "name": "TWIN STANDARD",
                        "rates": [
                            rate(
                                "20260505|20260506|W|1|168471|TWN.ST|ID_B2B_26|HB||1~1~0||N@3",
                                "120.00",
                                "HB",
                            )
                        ],
                    },
                    {
                        "code": "SUI.JS",
                        "name": "JUNIOR SUITE",
                        "rates": [rate("x|SUI", "400.00", "BB")],
                    },
                ],
                "minRate": "90.00",
                "maxRate": "400.00",
                "currency": "USD",
            }
        ],
        "checkIn": "2026-05-05",
        "total": 1,
        "checkOut": "2026-05-06",
    },
}


def booking(reference: str, status: str = "CONFIRMED", client_ref: str = "NX") -> dict[str, Any]:
    return {
        "auditData": AUDIT,
        "booking": {
            "reference": reference,
            "clientReference": client_ref,
            "creationDate": "2026-05-05",
            "status": status,
            "modificationPolicies": {"cancellation": True, "modification": True},
            "creationUser": "nexa",
            "holder": {"name": "ANA", "surname": "PEREZ"},
            "hotel": {"code": 168471, "name": "Holiday Inn Santiago Airport", "rooms": []},
            "totalNet": 90.0,
            "pendingAmount": 90.0,
            "currency": "USD",
        },
    }


def error(code: str, message: str) -> dict[str, Any]:
    return {"auditData": AUDIT, "error": {"code": code, "message": message}}


class FakeHotelbeds:
    """Checks Api-key and X-Signature on every call; remembers bookings."""

    def __init__(self, mock: respx.MockRouter, clock: Any) -> None:
        self.clock = clock
        self.bookings: dict[str, str] = {}
        self.booked_bodies: list[dict[str, Any]] = []
        self.checkrates = 0
        self.signatures: list[str] = []
        mock.post("/hotel-api/1.0/hotels").mock(side_effect=self.availability)
        mock.post("/hotel-api/1.0/checkrates").mock(side_effect=self.checkrate)
        mock.post("/hotel-api/1.0/bookings").mock(side_effect=self.book)
        mock.get(url__regex=r".*/hotel-api/1.0/bookings/(?P<ref>[^/?]+)$").mock(
            side_effect=self.detail
        )
        mock.delete(url__regex=r".*/hotel-api/1.0/bookings/(?P<ref>[^/?]+)(\?.*)?$").mock(
            side_effect=self.cancel
        )

    def _signed(self, request: httpx.Request) -> httpx.Response | None:
        ts = int(self.clock.now().timestamp())
        expected = hashlib.sha256(f"hb-key-lan{'hb-secret-lan'}{ts}".encode()).hexdigest()
        self.signatures.append(request.headers.get("X-Signature", ""))
        if (
            request.headers.get("Api-key") != "hb-key-lan"
            or request.headers.get("X-Signature") != expected
        ):
            return httpx.Response(401, json={"error": "Request signature verification failed"})
        return None

    def availability(self, request: httpx.Request) -> httpx.Response:
        if (bad := self._signed(request)) is not None:
            return bad
        body = json.loads(request.content)
        assert body["geolocation"]["unit"] == "km" and body["stay"]["checkIn"] == "2026-05-05"
        return httpx.Response(200, json=AVAILABILITY)

    def checkrate(self, request: httpx.Request) -> httpx.Response:
        if (bad := self._signed(request)) is not None:
            return bad
        self.checkrates += 1
        key = json.loads(request.content)["rooms"][0]["rateKey"]
        rechecked = rate(key.replace("N@2", "N@2R"), "91.00", "RO", "BOOKABLE")
        return httpx.Response(
            200,
            json={
                "auditData": AUDIT,
                "hotel": {
                    "code": 168471,
                    "currency": "USD",
                    "rooms": [{"code": "DBL.ST", "rates": [rechecked]}],
                },
            },
        )

    def book(self, request: httpx.Request) -> httpx.Response:
        if (bad := self._signed(request)) is not None:
            return bad
        body = json.loads(request.content)
        assert len(body["clientReference"]) <= 20
        self.booked_bodies.append(body)
        ref = f"102-{3934427 + len(self.bookings)}"
        self.bookings[ref] = "CONFIRMED"
        return httpx.Response(200, json=booking(ref, client_ref=body["clientReference"]))

    def detail(self, request: httpx.Request, ref: str) -> httpx.Response:
        if (bad := self._signed(request)) is not None:
            return bad
        if ref not in self.bookings:
            return httpx.Response(404, json=error("BOOKING_NOT_FOUND", "Booking not found"))
        return httpx.Response(200, json=booking(ref, self.bookings[ref]))

    def cancel(self, request: httpx.Request, ref: str) -> httpx.Response:
        if (bad := self._signed(request)) is not None:
            return bad
        assert request.url.params["cancellationFlag"] == "CANCELLATION"
        if ref not in self.bookings:
            return httpx.Response(404, json=error("BOOKING_NOT_FOUND", "Booking not found"))
        self.bookings[ref] = "CANCELLED"
        return httpx.Response(200, json=booking(ref, "CANCELLED"))
