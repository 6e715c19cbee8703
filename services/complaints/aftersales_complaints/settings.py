"""Settings of the complaints service (env prefix COMPLAINTS_; shared names in ServiceSettings).

Nested grading rules are set with `__`, e.g. `COMPLAINTS_GRADING__ITEM_FLOOR_MAX=3`, or as
JSON: `COMPLAINTS_GRADING='{"overall_bands": [{"max_overall": 5, "grade": "B"}]}'`; the same
for `COMPLAINTS_DEADLINES` (D20) and `COMPLAINTS_LADDER` (D21). A dealer overrides them in the
dealer directory under `settings.complaints.{grading,deadlines,ladder,calendar}` (`calendar`:
the shared working calendar's fields, e.g. its `hours`).
"""

from __future__ import annotations

from aftersales_runtime.batches import BatchSettings, min_interval_ms
from aftersales_runtime.settings import ServiceSettings
from pydantic import Field
from pydantic_settings import SettingsConfigDict

from aftersales_complaints.domain.deadlines import DeadlinePolicy
from aftersales_complaints.domain.grading import GradingRules
from aftersales_complaints.domain.ladder import Ladder


class ComplaintsSettings(ServiceSettings, BatchSettings):
    model_config = SettingsConfigDict(
        env_prefix="COMPLAINTS_",
        extra="ignore",
        populate_by_name=True,
        env_nested_delimiter="__",
    )

    mongodb_database: str = "aftersales_complaints"
    # Under load a ticket opens up to about a second later; in exchange a busy stream's records
    # come in passes of about half a second's worth, not of one fetch's (batches.Pace).
    batch_min_interval_ms: int = min_interval_ms(500, "Under load, passes start this far apart.")
    http_port: int = 8004
    grading: GradingRules = Field(default_factory=GradingRules)
    deadlines: DeadlinePolicy = Field(default_factory=DeadlinePolicy)  # D20
    ladder: Ladder = Field(default_factory=Ladder)  # D19, D21
    # D3/D29: who sees a customer's whole phone number in the customer lookup (each showing is
    # written to the reveal audit first); everyone else sees 138****8000.
    phone_visible_to: tuple[str, ...] = ("cr_manager",)
    sweep_interval_seconds: float = Field(
        1.0, gt=0, le=60, description="How often the deadline sweep runs (and re-publishes)."
    )
