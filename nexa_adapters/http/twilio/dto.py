"""Twilio Messages API payloads (only what Nexa reads)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class MessageResource(BaseModel):
    """``POST /2010-04-01/Accounts/{AccountSid}/Messages.json`` → 201."""

    model_config = ConfigDict(extra="ignore")

    sid: str = Field(pattern=r"^(SM|MM)[0-9a-fA-F]{32}$")
    status: str
    error_code: int | None = None


class StatusCallback(BaseModel):
    """The form fields of a message status callback."""

    model_config = ConfigDict(extra="ignore")

    MessageSid: str = Field(min_length=2)
    MessageStatus: str
    ErrorCode: str | None = None
