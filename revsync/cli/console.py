"""Terminal output: the sync progress bar and the summary table."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from revsync.sync.types import SyncReport, stream_totals

console = Console()


class SyncProgress:
    """A progress line per stream (objects read, its partitions added up) plus one for
    the derivation."""

    def __init__(self, subscribers: int) -> None:
        self.progress = Progress(
            TextColumn("{task.description:<14}"), BarColumn(), TextColumn("{task.fields[info]}"),
            TimeElapsedColumn(), console=console,
        )
        self.subscribers = subscribers
        self.tasks: dict[str, TaskID] = {}

    def __enter__(self) -> SyncProgress:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.__exit__(None, None, None)

    def update(self, report: SyncReport) -> None:
        for stream in stream_totals(report.streams):
            task = self._task(stream.name, None)
            info = f"{stream.objects:,} objects, {stream.requests:,} requests"
            if not stream.done and stream.parts > 1:
                info += f", {stream.parts - stream.parts_done} of {stream.parts} ranges listing"
            self.progress.update(task, info=info, completed=1 if stream.done else 0, total=1
                                 if stream.done else None)
        derive = self._task("subscribers", self.subscribers or None)
        self.progress.update(
            derive, completed=report.derive.subscribers_seen,
            info=f"{report.derive.subscribers_seen:,} derived ({report.phase})",
        )

    def _task(self, name: str, total: int | None) -> TaskID:
        if name not in self.tasks:
            self.tasks[name] = self.progress.add_task(name, total=total, info="")
        return self.tasks[name]


def summary_table(report: SyncReport, currency: str) -> Table:
    """What the sync did: customers, subscribers, money, tags, requests against the minimum."""
    table = Table(title=f"Sync run {report.sync_run_id}: {report.status}", show_header=False)
    d, c = report.derive, report.customers
    rows: list[tuple[str, str]] = [
        ("Stripe customers scanned", f"{c.get('scanned', 0):,}"),
        ("  matched to a subscriber", f"{d.customers_matched:,}"),
        ("  eligible (synced)", f"{d.customers_eligible:,}"),
        ("  skipped: no email", f"{c.get('no_email', 0):,}"),
        ("  skipped: no matching subscriber", f"{c.get('no_matching_subscriber', 0):,}"),
    ]
    rows += [(f"  skipped: {reason}", f"{n:,}") for reason, n in sorted(d.skipped.items())]
    rows += [
        ("Subscribers with Stripe data", f"{d.subscribers_matched:,} of {d.subscribers_seen:,}"),
        ("  changed by this run / cleared", f"{d.subscribers_changed:,} / "
                                            f"{d.subscribers_cleared:,}"),
        (f"Total MRR ({currency})", f"{d.mrr_total:,.2f}"),
        (f"Total LTV ({currency})", f"{d.ltv_total:,.2f}"),
    ]
    rows += [(f"  tag {tag}", f"{n:,}") for tag, n in sorted(d.tags.items())]
    rows += [(f"  amounts left out (no FX rate): {cur}", f"{n:,}")
             for cur, n in sorted(d.unconverted.items())]
    data_requests = report.requests - report.catalogue_requests
    ratio = data_requests / report.min_requests if report.min_requests else 0.0
    rows += [
        ("Stripe requests (data streams)", f"{data_requests:,} vs minimum "
                                           f"{report.min_requests:,} ({ratio:.3f}x)"),
        ("  of which nested-list pages", f"{sum(s.nested_pages for s in report.streams):,}"),
        ("Stripe requests (catalogues)", f"{report.catalogue_requests:,}"),
    ]
    for label, value in rows:
        table.add_row(label, value)
    return table
