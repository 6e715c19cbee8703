"""OpenTelemetry traces, propagated through Kafka headers (W3C `traceparent`) by FastStream's
telemetry middleware; off by default (`AFTERSALES_TRACING=off|console|otlp`; OTLP reads the
standard `OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_EXPORTER_OTLP_HEADERS`, …).

One work order is one trace. Its path is not one call chain: the scheduler publishes a contact
due days later from a timer, and an agent's HTTP call publishes the result, both outside any
consumed message. So a contract event is published inside its work order's trace, whose id is
derived from the event's `correlation_id` (the DMS work order's, carried end to end); a consumer
continues the trace from the headers, and a publisher outside any span of that trace (a timer,
an HTTP route, a batch of many work orders) starts from the derived id again.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum

from opentelemetry import context, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
)
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags


class TracingExporter(StrEnum):
    off = "off"
    console = "console"  # one JSON line per span on stdout (next to the JSON logs)
    otlp = "otlp"  # OTLP over HTTP to a collector


def _one_line(span: ReadableSpan) -> str:
    # Not `span.to_json()`: a Kafka key is a bytes attribute, which json.dumps refuses.
    context = span.get_span_context()
    record = {
        "span": span.name,
        "service": span.resource.attributes.get("service.name"),
        "kind": span.kind.name,
        "trace_id": f"{context.trace_id:032x}" if context else None,
        "span_id": f"{context.span_id:016x}" if context else None,
        "parent_id": f"{span.parent.span_id:016x}" if span.parent else None,
        "start_ns": span.start_time,
        "end_ns": span.end_time,
        "attributes": dict(span.attributes or {}),
        "links": [f"{link.context.trace_id:032x}" for link in span.links],
    }
    return json.dumps(record, default=str) + "\n"


def tracer_provider(exporter: TracingExporter, service: str, version: str) -> TracerProvider | None:
    """The service's own provider (not the global one: tests run several services in one
    process), or None when tracing is off."""
    if exporter is TracingExporter.off:
        return None
    resource = Resource.create(
        {"service.name": f"aftersales-{service}", "service.version": version}
    )
    provider = TracerProvider(resource=resource)
    span_exporter: SpanExporter
    if exporter is TracingExporter.console:
        span_exporter = ConsoleSpanExporter(out=sys.stdout, formatter=_one_line)
        provider.add_span_processor(SimpleSpanProcessor(span_exporter))
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return provider


def work_order_trace_id(correlation_id: str) -> int:
    return int.from_bytes(hashlib.sha256(correlation_id.encode()).digest()[:16], "big") or 1


@contextmanager
def within_work_order_trace(correlation_id: str) -> Iterator[None]:
    """Run a publication inside the work order's trace (see the module's docstring)."""
    trace_id = work_order_trace_id(correlation_id)
    if trace.get_current_span().get_span_context().trace_id == trace_id:
        yield  # already inside it: the new spans are children of the current one
        return
    digest = hashlib.sha256(f"root:{correlation_id}".encode()).digest()
    parent = SpanContext(
        trace_id=trace_id,
        span_id=int.from_bytes(digest[:8], "big") or 1,
        is_remote=True,
        trace_flags=TraceFlags(TraceFlags.SAMPLED),
    )
    token = context.attach(trace.set_span_in_context(NonRecordingSpan(parent)))
    try:
        yield
    finally:
        context.detach(token)
