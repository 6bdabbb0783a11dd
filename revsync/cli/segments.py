"""`starter.py segments ...` and `email-events import`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from sqlmodel import Session

from revsync.cli.common import WorkspaceOption, fail, load_settings, workspace_or_fail
from revsync.cli.console import console
from revsync.store import db

segments_app = typer.Typer(help="Saved segments: expressions over mrr, ltv, tags, email "
                                "engagement and carried metadata.", no_args_is_help=True)
email_events_app = typer.Typer(help="Email engagement (opens, clicks) from the host platform.",
                               no_args_is_help=True)


@email_events_app.command("import")
def import_email_events(
    file: Annotated[Path, typer.Argument(help="CSV with columns email,kind,occurred_at "
                                              "(kind open|click, ISO 8601 time).")],
    workspace: WorkspaceOption = "default",
) -> None:
    """Import opens and clicks; all or nothing, unknown emails are skipped and counted."""
    from rich.markup import escape

    from revsync.subscribers import email_events

    settings = load_settings()
    try:
        rows = email_events.read_csv(file)
    except email_events.EventsFileError as error:
        raise fail(escape(str(error))) from None
    with db.session(settings.resolved_database_url) as session:
        workspace_id = _workspace_id(session, workspace)
        result = email_events.import_rows(session, workspace_id, rows)
    if result.rejected:
        for line, reason in result.rejected[:20]:
            console.print(f"  line {line}: {escape(reason)}")
        raise fail(f"{len(result.rejected)} malformed row(s); nothing imported")
    console.print(f"imported {result.imported}, skipped {result.unknown_email} with unknown "
                  f"emails, {result.duplicates} duplicates")


def _workspace_id(session: Session, name: str) -> int:
    workspace = workspace_or_fail(session, name)
    assert workspace.id is not None
    return workspace.id


@contextmanager
def _segment(workspace: str, name: str, expression: str | None = None
             ) -> Iterator[tuple[Session, int, int]]:
    """(session, workspace id, segment id) of a named segment; any segment error inside
    exits 2 with its message (and, for an expression, where it went wrong)."""
    from revsync.segments import SegmentError, SegmentStoreError, SegmentTooSlow, store

    settings = load_settings()
    with db.session(settings.resolved_database_url) as session:
        try:
            workspace_id = _workspace_id(session, workspace)
            segment = store.by_name(session, workspace_id, name)
            assert segment.id is not None
            yield session, workspace_id, segment.id
        except (SegmentError, SegmentStoreError, SegmentTooSlow) as error:
            raise _segment_failure(error, expression) from None


def _segment_failure(error: Exception, expression: str | None = None) -> typer.Exit:
    """Exit 2 with the message; an expression error also shows where it is."""
    from rich.markup import escape

    from revsync.segments import SegmentError
    from revsync.segments.tables import pointed_error

    if isinstance(error, SegmentError) and expression is not None:
        return fail(escape(pointed_error(expression, error)))
    return fail(escape(str(error)))


@segments_app.command("list")
def segments_list(workspace: WorkspaceOption = "default") -> None:
    """The workspace's segments, by name."""
    from revsync.segments import store
    from revsync.segments.tables import segments_table

    settings = load_settings()
    with db.session(settings.resolved_database_url) as session:
        console.print(segments_table(store.list_segments(session,
                                                         _workspace_id(session, workspace))))


@segments_app.command("create")
def segments_create(
    name: Annotated[str, typer.Argument(help="Unique within the workspace.")],
    expression: Annotated[str, typer.Argument(help="e.g. 'mrr >= 50 AND tag = customer'")],
    workspace: WorkspaceOption = "default",
) -> None:
    """Save a new segment (the expression is checked first)."""
    from revsync.segments import SegmentError, SegmentStoreError, store

    settings = load_settings()
    with db.session(settings.resolved_database_url) as session:
        try:
            segment = store.create(session, _workspace_id(session, workspace), name, expression,
                                   cap=settings.max_segments_per_workspace)
        except (SegmentError, SegmentStoreError) as error:
            raise _segment_failure(error, expression) from None
    console.print(f"created segment {segment.id}", markup=False)


@segments_app.command("edit")
def segments_edit(
    name: Annotated[str, typer.Argument(help="The segment to change.")],
    new_name: Annotated[str | None, typer.Option("--name", help="New name.")] = None,
    expression: Annotated[str | None, typer.Option(help="New expression.")] = None,
    workspace: WorkspaceOption = "default",
) -> None:
    """Rename a segment and/or change its expression."""
    from revsync.segments import store

    with _segment(workspace, name, expression) as (session, workspace_id, segment_id):
        store.edit(session, workspace_id, segment_id, name=new_name, expression=expression)
    console.print(f"updated segment {segment_id}", markup=False)


@segments_app.command("delete")
def segments_delete(name: str, workspace: WorkspaceOption = "default") -> None:
    """Delete a segment (a deleted default segment is not re-created)."""
    from revsync.segments import store

    with _segment(workspace, name) as (session, workspace_id, segment_id):
        store.delete(session, workspace_id, segment_id)
    console.print(f"deleted segment {segment_id}", markup=False)


@segments_app.command("count")
def segments_count(name: str, workspace: WorkspaceOption = "default") -> None:
    """How many subscribers are in the segment now."""
    from revsync.segments import store

    with _segment(workspace, name) as (session, workspace_id, segment_id):
        console.print(store.count(session, workspace_id, segment_id))


@segments_app.command("members")
def segments_members(
    name: str,
    after: Annotated[int, typer.Option(min=0, help="Show members with a larger id "
                                                   "(the last id of the previous page).")] = 0,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 100,
    workspace: WorkspaceOption = "default",
) -> None:
    """One page of members, in subscriber-id order."""
    from revsync.segments import store
    from revsync.segments.tables import members_table

    with _segment(workspace, name) as (session, workspace_id, segment_id):
        page = store.members(session, workspace_id, segment_id, after=after, limit=limit)
    console.print(members_table(page))
    if page.next_after is not None:
        console.print(f"next page: --after {page.next_after}")


@segments_app.command("check")
def segments_check(expression: str) -> None:
    """Check an expression without saving it; prints its canonical form."""
    from revsync.segments import SegmentError, parse, to_text

    try:
        tree = parse(expression)
    except SegmentError as error:
        raise _segment_failure(error, expression) from None
    console.print(f"ok: {to_text(tree)}", markup=False)

