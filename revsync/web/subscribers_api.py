"""The subscribers JSON API under /api/workspaces/{workspace}/subscribers: subscribers
and engagement in, values out (docs/platform.md, "Subscribers in and out").

Writes run in a locked session (`db.locked_session`) because a subscriber written or
re-addressed is derived from the mirror in the same transaction (`subscribers.upsert`):
at most `upsert.MAX_BATCH` subscribers per request, so a request holds a web thread for
well under a second. A write that lost a race with a concurrent one on a unique key
(PostgreSQL) is run once more, and then sees the other's rows.

Errors: 400 unreadable body, 401/503 auth, 404 unknown workspace or subscriber, 409 an
email or external id another subscriber has, 413 body too large, 422 invalid input
(a bad segment expression carries `position`, `found` and `expected`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from temporalio.client import Client

from revsync.automations.client import unsubscribe as stop_sequences
from revsync.feed import sink
from revsync.revenue import normalize_email
from revsync.settings import Settings
from revsync.store import workspaces
from revsync.store.models import EXTERNAL_ID_LENGTH, Subscriber
from revsync.subscribers import email_events, manage, records, schema, upsert
from revsync.subscribers.addresses import MAX_EMAIL_LENGTH, Invalid
from revsync.web import idempotency
from revsync.web.auth import Handler
from revsync.web.bodies import MAX_BATCH_BODY, model_body
from revsync.web.errors import HttpError
from revsync.web.json_api import Work, WorkspaceApi, in_workspace, int_param
from revsync.web.segments_api import segment_refusal

BASE = "/api/workspaces/{workspace}/subscribers"
BY_EMAIL = "/by-email/{email}"
BY_EXTERNAL_ID = "/by-external-id/{external_id}"
MAX_ATTRIBUTES = 100
T = TypeVar("T")
Change = Callable[[Session, Subscriber], list[int]]  # returns the sequence rules to stop

ExternalId = Annotated[str, StringConstraints(min_length=1, max_length=EXTERNAL_ID_LENGTH)]
Email = Annotated[str, StringConstraints(max_length=MAX_EMAIL_LENGTH)]
AttributeName = Annotated[str, StringConstraints(min_length=1, max_length=100)]
AttributeValue = Annotated[str, StringConstraints(max_length=1000)]
Attributes = Annotated[dict[AttributeName, AttributeValue], Field(max_length=MAX_ATTRIBUTES)]


class SubscriberIn(BaseModel):
    """One subscriber to create or update, found by its email."""

    model_config = ConfigDict(extra="forbid")
    email: Email
    external_id: ExternalId | None = None
    attributes: Attributes = Field(default_factory=dict)


class BatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    subscribers: list[SubscriberIn] = Field(min_length=1, max_length=upsert.MAX_BATCH)


class SubscriberPatch(BaseModel):
    """What to change on one subscriber; a field left out (or null) stays as it is."""

    model_config = ConfigDict(extra="forbid")
    email: Email | None = None
    external_id: ExternalId | None = None
    attributes: Attributes | None = None


class EventIn(BaseModel):
    """One open or click, for the subscriber with this email or external id."""

    model_config = ConfigDict(extra="forbid")
    event_id: ExternalId
    email: Email | None = None
    external_id: ExternalId | None = None
    kind: Literal["open", "click"]
    occurred_at: datetime

    @model_validator(mode="after")
    def one_subscriber(self) -> EventIn:
        if (self.email is None) == (self.external_id is None):
            raise ValueError("give the subscriber's email or its external_id, not both")
        return self


class EventsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    events: list[EventIn] = Field(min_length=1, max_length=upsert.MAX_BATCH)


class SubscribersApi(WorkspaceApi):
    base = BASE

    def __init__(self, settings: Settings, client: Client) -> None:
        super().__init__(settings)
        self.client = client

    def table(self) -> list[tuple[str, Handler, list[str]]]:
        return [("", self.list_or_upsert, ["GET", "POST"]),
                ("/batch", self.batch, ["POST"]),
                ("/schema", self.schema, ["GET"]),
                ("/events", self.events, ["POST"]),
                (BY_EMAIL, self.one, ["GET", "PATCH", "DELETE"]),
                (BY_EXTERNAL_ID, self.one, ["GET", "PATCH", "DELETE"]),
                (BY_EMAIL + "/unsubscribe", self.unsubscribe, ["POST"]),
                (BY_EXTERNAL_ID + "/unsubscribe", self.unsubscribe, ["POST"])]

    async def list_or_upsert(self, request: Request) -> Response:
        if request.method == "GET":
            return await self._list(request)
        body = await model_body(request, SubscriberIn)

        def work(session: Session, workspace_id: int) -> Response:
            [written] = upsert.upsert(session, workspace_id, [_wanted(body)])
            if written.status == upsert.REFUSED:
                raise HttpError(409 if written.reason == upsert.TAKEN else 422, written.reason)
            assert written.subscriber is not None
            answer = _answer(session, written.status, written.subscriber)
            session.commit()
            return JSONResponse(answer,
                                status_code=201 if written.status == upsert.CREATED else 200)

        return await self._write(request, work)

    async def batch(self, request: Request) -> Response:
        body = await model_body(request, BatchIn, MAX_BATCH_BODY)
        keyed = idempotency.of(request, "subscribers/batch", body)

        def work(session: Session, workspace_id: int) -> Response:
            return _once(session, workspace_id, keyed, lambda: {"results": [
                _result(index, written) for index, written in enumerate(upsert.upsert(
                    session, workspace_id, [_wanted(item) for item in body.subscribers]))]})

        return await self._write(request, work)

    async def events(self, request: Request) -> Response:
        body = await model_body(request, EventsIn, MAX_BATCH_BODY)

        def work(session: Session, workspace_id: int) -> Response:
            by_email, by_external = manage.ids_of(
                session, workspace_id,
                emails=[normalize_email(e.email) or "" for e in body.events if e.email],
                external_ids=[e.external_id for e in body.events if e.external_id])
            statuses = email_events.record_identified(session, workspace_id, [
                email_events.IdentifiedEvent(
                    e.event_id,
                    by_email.get(normalize_email(e.email) or "") if e.email
                    else by_external.get(e.external_id or ""),
                    e.kind, _utc(e.occurred_at))
                for e in body.events])
            session.commit()
            return JSONResponse({"results": [
                {"index": i, "event_id": e.event_id, "status": status}
                for i, (e, status) in enumerate(zip(body.events, statuses, strict=True))]})

        return await self._write(request, work, derives=False)

    async def schema(self, request: Request) -> Response:
        return await in_workspace(self.url, request, lambda s, ws: JSONResponse(
            {"fields": schema.fields(workspaces.by_id(s, ws))}))

    async def one(self, request: Request) -> Response:
        if request.method == "GET":
            return await in_workspace(self.url, request, lambda s, ws: JSONResponse(
                records.records(s, [_named(s, ws, request)])[0]), _errors)
        if request.method == "DELETE":
            return await self._stop_after(request, manage.remove, Response(status_code=204))
        body = await model_body(request, SubscriberPatch)

        def patch(session: Session, workspace_id: int) -> Response:
            subscriber = _named(session, workspace_id, request, lock=True)
            changed = manage.change(session, subscriber, email=body.email,
                                    external_id=body.external_id, attributes=body.attributes)
            answer = _answer(session, upsert.UPDATED if changed else upsert.UNCHANGED,
                             subscriber)
            session.commit()
            return JSONResponse(answer)

        return await self._write(request, patch)

    async def unsubscribe(self, request: Request) -> Response:
        return await self._stop_after(request, manage.unsubscribe,
                                      JSONResponse({"unsubscribed": True}))

    async def _list(self, request: Request) -> Response:
        after = int_param(request, "after", 0)
        limit = int_param(request, "limit", records.DEFAULT_PAGE)
        segment = request.query_params.get("segment") or None

        def work(session: Session, workspace_id: int) -> Response:
            page = records.page(session, workspace_id, after=after, limit=limit,
                                segment=segment)
            return JSONResponse({"subscribers": page.records, "next_after": page.next_after})

        return await in_workspace(self.url, request, work, _errors)

    async def _stop_after(self, request: Request, change: Change, answer: Response) -> Response:
        """Apply `change` (remove, unsubscribe) to the named subscriber, commit, then stop
        the sequence rules it returns running for it (Temporal signals, after the commit
        so a stopped run that reads the row sees the change)."""
        def work(session: Session, workspace_id: int) -> tuple[int, list[int]]:
            subscriber = _named(session, workspace_id, request, lock=True)
            assert subscriber.id is not None
            sequences = change(session, subscriber)
            session.commit()
            return subscriber.id, sequences

        subscriber_id, sequences = await self._write(request, work)
        await stop_sequences(self.client, request.path_params["workspace"], subscriber_id,
                             sequences)
        return answer

    async def _write(self, request: Request, work: Work[T], derives: bool = True) -> T:
        """Run a write; one that derives subscribers then nudges the change sink, which
        delivers the feed entries their first values made."""
        written: list[int] = []

        def tracked(session: Session, workspace_id: int) -> T:
            result = work(session, workspace_id)
            written.append(workspace_id)
            return result

        try:
            result = await in_workspace(self.url, request, tracked, _errors, locked=True)
        except IntegrityError:
            try:  # a concurrent writer took the same email, external id or key: see its rows
                result = await in_workspace(self.url, request, tracked, _errors, locked=True)
            except IntegrityError:
                raise HttpError(409, "a concurrent request wrote the same subscriber; "
                                     "send it again") from None
        if derives:
            await sink.nudge(self.client, self.settings, written[-1])
        return result


def _once(session: Session, workspace_id: int, keyed: idempotency.Keyed | None,
          do: Callable[[], dict[str, Any]]) -> Response:
    """Do the work and commit, or answer what the request with this key answered."""
    if keyed is not None:
        stored = idempotency.replay(session, workspace_id, keyed)
        if stored is not None:
            session.rollback()
            return stored
    answer: dict[str, Any] = do()
    if keyed is not None:
        idempotency.remember(session, workspace_id, keyed, 200, answer)
    session.commit()
    return JSONResponse(answer)


def _named(session: Session, workspace_id: int, request: Request,
           lock: bool = False) -> Subscriber:
    params = request.path_params
    return manage.find(session, workspace_id, email=params.get("email"),
                       external_id=params.get("external_id"), lock=lock)


def _wanted(item: SubscriberIn) -> upsert.Wanted:
    return upsert.Wanted(item.email, item.external_id, item.attributes)


def _answer(session: Session, status: str, subscriber: Subscriber) -> dict[str, Any]:
    return {"status": status, "subscriber": records.records(session, [subscriber])[0]}


def _result(index: int, written: upsert.Written) -> dict[str, Any]:
    if written.subscriber is None:
        return {"index": index, "status": written.status, "reason": written.reason}
    return {"index": index, "status": written.status, "id": written.subscriber.id,
            "external_id": written.subscriber.external_id,
            "version": written.subscriber.version}


def _utc(moment: datetime) -> datetime:
    """A time without a zone is UTC, as in the CSV import."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _errors(problem: Exception) -> HttpError | None:
    if (refusal := segment_refusal(problem)) is not None:
        return refusal
    if isinstance(problem, manage.SubscriberNotFound):
        return HttpError(404, str(problem))
    if isinstance(problem, manage.EmailTaken | upsert.ExternalIdTaken):
        return HttpError(409, str(problem))
    if isinstance(problem, records.BadPage | Invalid):
        return HttpError(422, str(problem))
    return None
