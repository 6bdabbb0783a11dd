"""An SMTP server on loopback (aiosmtpd), and a client with a worker on the time-skipping
Temporal test server."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from revsync.settings import Settings
from revsync.temporal.client import connect


@dataclass
class Inbox:
    """What the SMTP server received: (envelope recipients, parsed message)."""

    messages: list[tuple[list[str], Message]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 OK"

    def subjects(self) -> list[str]:
        return [str(message["Subject"]) for _, message in self.messages]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def smtp_server(inbox: Inbox) -> Iterator[tuple[Inbox, int]]:
    """An SMTP server on loopback handled by `inbox`: (inbox, port)."""
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    with smtp_server(Inbox()) as server:
        yield server


@pytest.fixture
def mail_settings(settings: Settings, smtp: tuple[Inbox, int]) -> Settings:
    """The test settings, sending through the loopback SMTP server."""
    return settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": smtp[1],
                                       "team_alert_to": "team@shop.example"})




@pytest.fixture
async def worker_client(time_env: WorkflowEnvironment, mail_settings: Settings
                        ) -> AsyncIterator[Client]:
    """A client of the time-skipping server, with a worker on the main task queue."""
    target = time_env.client.service_client.config.target_host
    client = await connect(mail_settings, target_host=target)
    async with Worker(client, task_queue=mail_settings.task_queue):
        yield client
