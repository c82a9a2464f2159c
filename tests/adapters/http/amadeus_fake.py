"""A respx-driven Amadeus Self-Service stand-in that answers with the published shapes."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

import httpx
import respx

BASE = "https://test.api.amadeus.com"
ENV = {
    "NEXA_SECRET__LAN__AMADEUS__CLIENT_ID": "cid-lan",
    "NEXA_SECRET__LAN__AMADEUS__CLIENT_SECRET": "csecret-lan",
    "NEXA_SECRET__LAN__AMADEUS__CARD_VENDOR_CODE": "VI",
    "NEXA_SECRET__LAN__AMADEUS__CARD_TOKEN": "tok_guarantee_lan",
    "NEXA_SECRET__LAN__AMADEUS__CARD_EXPIRY": "2028-08",
}

TOKEN = {
    "type": "amadeusOAuth2Token",
    "username": "ops@example.com",
    "application_name": "nexa-test",
    "client_id": "cid-lan",
    "token_type": "Bearer",
    "access_token": "tok-1",
    "expires_in": 1799,
    "state": "approved",
    "scope": "",
}

HOTEL_LIST = {
    "data": [
        {
            "chainCode": "HI",
            "iataCode": "SCL",
            "dupeId": 700027723,
            "name": "HOLIDAY INN SANTIAGO AIRPORT",
            "hotelId": "HISCL001",
            "geoCode": {"latitude": -33.39, "longitude": -70.79},
            "address": {"countryCode": "CL"},
            "distance": {"value": 0.4, "unit": "KM"},
        },
        {
            "chainCode": "WY",
            "iataCode": "SCL",
            "dupeId": 700011111,
            "name": "WYNDHAM PUDAHUEL",
            "hotelId": "WYSCL002",
            "geoCode": {"latitude": -33.41, "longitude": -70.74},
            "address": {"countryCode": "CL"},
            "distance": {"value": 4.1, "unit": "KM"},
        },
    ],
    "meta": {
        "count": 2,
        "links": {"self": BASE + "/v1/reference-data/locations/hotels/by-geocode"},
    },
}


def _offer(oid: str, hotel: str, total: str, bed: str, beds: int, board: str) -> dict[str, Any]:
    return {
        "id": oid,
        "checkInDate": "2026-05-05",
        "checkOutDate": "2026-05-06",
        "rateCode": "RAC",
        "roomQuantity": 2,
        "boardType": board,
        "room": {
            "type": "A1D",
            "typeEstimated": {"category": "STANDARD_ROOM", "beds": beds, "bedType": bed},
            "description": {"text": "Standard room", "lang": "EN"},
        },
        "guests": {"adults": 1},
        "price": {
            "currency": "USD",
            "base": total,
            "total": total,
            "variations": {"average": {"base": total}, "changes": []},
        },
        "policies": {
            "paymentType": "guarantee",
            "cancellations": [{"deadline": "2026-05-05T18:00:00-04:00", "amount": "0.00"}],
        },
        "self": f"{BASE}/v3/shopping/hotel-offers/{oid}",
    }


HOTEL_OFFERS = {
    "data": [
        {
            "type": "hotel-offers",
            "hotel": {
                "type": "hotel",
                "hotelId": "HISCL001",
                "chainCode": "HI",
                "dupeId": "700027723",
                "name": "HOLIDAY INN SANTIAGO AIRPORT",
                "cityCode": "SCL",
                "latitude": -33.39,
                "longitude": -70.79,
            },
            "available": True,
            "offers": [
                _offer("TSXOJ6LFQ2", "HISCL001", "240.10", "DOUBLE", 1, "BREAKFAST"),
                _offer("TSXOJ6LFQ3", "HISCL001", "260.00", "TWIN", 2, "BREAKFAST"),
            ],
            "self": f"{BASE}/v3/shopping/hotel-offers?hotelIds=HISCL001",
        },
        {
            "type": "hotel-offers",
            "hotel": {
                "type": "hotel",
                "hotelId": "WYSCL002",
                "chainCode": "WY",
                "name": "WYNDHAM PUDAHUEL",
                "cityCode": "SCL",
                "latitude": -33.41,
                "longitude": -70.74,
            },
            "available": True,
            "offers": [_offer("WYOFFER001", "WYSCL002", "199.99", "KING", 1, "ROOM_ONLY")],
        },
    ]
}


def order(
    order_id: str, conf: str, status: str = "CONFIRMED", total: str = "120.05"
) -> dict[str, Any]:
    return {
        "data": {
            "type": "hotel-order",
            "id": order_id,
            "hotelBookings": [
                {
                    "type": "hotel-booking",
                    "id": f"{order_id}-1",
                    "bookingStatus": status,
                    "hotelProviderInformation": [
                        {"hotelProviderCode": "HI", "confirmationNumber": conf}
                    ],
                    "roomAssociations": [
                        {"hotelOfferId": "TSXOJ6LFQ2", "guestReferences": [{"guestReference": "1"}]}
                    ],
                    "hotelOffer": {
                        "id": "TSXOJ6LFQ2",
                        "type": "hotel-offer",
                        "category": "TYPE_CONDITIONAL",
                        "checkInDate": "2026-05-05",
                        "checkOutDate": "2026-05-06",
                        "guests": {"adults": 1},
                        "price": {"base": total, "currency": "USD", "total": total},
                        "room": {"type": "A1D"},
                        "roomQuantity": 1,
                    },
                    "hotel": {"hotelId": "HISCL001", "chainCode": "HI", "name": "HOLIDAY INN"},
                }
            ],
            "guests": [{"tid": 1, "id": 1, "firstName": "ANA", "lastName": "PEREZ"}],
            "associatedRecords": [{"reference": "QVH2BX", "originSystemCode": "GDS"}],
            "self": f"{BASE}/v2/booking/hotel-orders/{order_id}",
        }
    }


def error(status: int, code: int, title: str) -> dict[str, Any]:
    return {"errors": [{"status": status, "code": code, "title": title, "detail": title.lower()}]}


class FakeAmadeus:
    """Stateful enough for the conformance kit: tokens, search, book, status, cancel."""

    def __init__(self, mock: respx.MockRouter) -> None:
        self.orders: dict[str, str] = {}
        self.tokens_issued = 0
        self.bookings: list[dict[str, Any]] = []
        self.auth_headers: list[str] = []
        mock.post("/v1/security/oauth2/token").mock(side_effect=self.token)
        mock.get("/v1/reference-data/locations/hotels/by-geocode").mock(side_effect=self.hotels)
        mock.get("/v3/shopping/hotel-offers").mock(side_effect=self.offers)
        mock.post("/v2/booking/hotel-orders").mock(side_effect=self.book)
        mock.get(url__regex=r".*/v2/booking/hotel-orders/(?P<oid>[^/]+)$").mock(
            side_effect=self.get
        )
        mock.delete(url__regex=r".*/v2/booking/hotel-orders/(?P<oid>[^/]+)$").mock(
            side_effect=self.delete
        )

    def token(self, request: httpx.Request) -> httpx.Response:
        form = parse_qs(request.content.decode())
        assert form["grant_type"] == ["client_credentials"]
        if form["client_secret"] != ["csecret-lan"]:
            return httpx.Response(401, json={"error": "invalid_client", "code": 38187})
        self.tokens_issued += 1
        return httpx.Response(200, json={**TOKEN, "access_token": f"tok-{self.tokens_issued}"})

    def _authorized(self, request: httpx.Request) -> bool:
        self.auth_headers.append(request.headers.get("Authorization", ""))
        return request.headers.get("Authorization", "").startswith("Bearer tok-")

    def hotels(self, request: httpx.Request) -> httpx.Response:
        assert self._authorized(request)
        assert request.url.params["radiusUnit"] == "KM"
        return httpx.Response(200, json=HOTEL_LIST)

    def offers(self, request: httpx.Request) -> httpx.Response:
        assert self._authorized(request)
        assert set(request.url.params["hotelIds"].split(",")) == {"HISCL001", "WYSCL002"}
        return httpx.Response(200, json=HOTEL_OFFERS)

    def book(self, request: httpx.Request) -> httpx.Response:
        assert self._authorized(request)
        body = json.loads(request.content)
        assert body["data"]["type"] == "hotel-order"
        assert body["data"]["roomAssociations"][0]["guestReferences"] == [{"guestReference": "1"}]
        self.bookings.append(body)
        n = len(self.orders) + 1
        oid, conf = f"MTIzNDU2Nzg5{n}", f"HI{n:06d}"
        self.orders[oid] = "CONFIRMED"
        return httpx.Response(201, json=order(oid, conf))

    def get(self, request: httpx.Request, oid: str) -> httpx.Response:
        if oid not in self.orders:
            return httpx.Response(404, json=error(404, 1797, "NOT FOUND"))
        n = list(self.orders).index(oid) + 1
        return httpx.Response(200, json=order(oid, f"HI{n:06d}", self.orders[oid]))

    def delete(self, request: httpx.Request, oid: str) -> httpx.Response:
        if oid not in self.orders:
            return httpx.Response(404, json=error(404, 1797, "NOT FOUND"))
        self.orders[oid] = "CANCELLED"
        return httpx.Response(204)
