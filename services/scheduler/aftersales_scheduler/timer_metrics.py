"""The scheduler's own figures on /metrics.

`aftersales_scheduler_timers_due`: timers due that the dispatcher has read and not yet fired
(grows when it falls behind). Fired timers are `aftersales_events_published_total{event_type=
"ContactDue"}`. Timers pending in the future are not counted: the time line keeps no counter of
them, and counting would read every bucket ahead.
"""

from __future__ import annotations

from aftersales_runtime.service import Runtime

from aftersales_scheduler.dispatcher import Dispatcher


def watch_dispatcher(runtime: Runtime, dispatcher: Dispatcher) -> None:
    due = runtime.metrics.gauge(
        "scheduler_timers_due", "Timers due that the dispatcher has read and not yet fired."
    )

    async def read_due() -> None:
        due.set(dispatcher.due_waiting(runtime.clock.now()))

    runtime.metrics.on_scrape(read_due)
