"""What every use case of the agents' desk shares: the stores, the clock, the lease length, the
dealers' own settings and questionnaires, and this process's memory of the leases it has seen
(so claims skip held tasks without a lookup)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from aftersales_contracts.questionnaires import (
    Questionnaire,
    QuestionnaireCatalogue,
    default_catalogue,
)
from aftersales_runtime.clock import Clock
from aftersales_runtime.dealers import DealerDirectory
from aftersales_runtime.relay import PendingPublications

from aftersales_contact.open_queue import OpenQueue
from aftersales_contact.settings import DealerContactSettings
from aftersales_contact.sms_provider import SmsProvider
from aftersales_contact.sms_store import SmsStore
from aftersales_contact.store import ContactStore


class LeaseMemory:
    """Which tasks this process knows to be held (until when) or finished.

    Only an optimisation: the atomic lease insert decides who holds a task. It lets concurrent
    claims in one process pass over each other's tasks without a failed insert each: a claim
    reserves its candidate here synchronously, before its first await.
    """

    #: Finished tasks remembered: enough that a claim reading a bucket fetched just before a
    #: removal still passes over what was finished since, without a lookup each.
    FINISHED_REMEMBERED = 50_000

    def __init__(self) -> None:
        self._held_until: dict[str, datetime] = {}
        self._finished: OrderedDict[str, None] = OrderedDict()

    def busy(self, task_id: str, now: datetime) -> bool:
        if task_id in self._finished:
            return True
        until = self._held_until.get(task_id)
        return until is not None and until > now

    def hold(self, task_id: str, until: datetime) -> None:
        self._held_until[task_id] = until

    def free(self, task_id: str) -> None:
        self._held_until.pop(task_id, None)

    def finish(self, task_id: str) -> None:
        self._held_until.pop(task_id, None)
        self._finished[task_id] = None
        if len(self._finished) > self.FINISHED_REMEMBERED:
            self._finished.popitem(last=False)


@dataclass
class SmsChannel:
    """The SMS channel when a provider is configured (D14)."""

    provider: SmsProvider
    store: SmsStore
    templates: Mapping[str, str]  # SURVEY / REASK / NOTICE -> the provider's template code
    cascade_after: timedelta  # an unanswered survey becomes a call after this


@dataclass
class Desk:
    store: ContactStore
    queue: OpenQueue
    clock: Clock
    lease: timedelta
    priorities: Mapping[str, int]
    expire_after_days: Mapping[str, int]
    pending: PendingPublications  # results accepted but maybe not yet published (the relay)
    catalogue: QuestionnaireCatalogue = field(default_factory=default_catalogue)
    dealers: DealerDirectory = field(default_factory=lambda: DealerDirectory({}))
    memory: LeaseMemory = field(default_factory=LeaseMemory)
    #: None: no SMS provider configured, SMS contacts are queued for agents like calls.
    sms: SmsChannel | None = None
    #: Seconds an agent's finished task, leaving the open queue, waits for the other agents'
    #: of the moment to leave with it (one write of the dealer's queue for them all).
    removal_linger: float = 0.0

    def _own(self, dealer_id: str) -> DealerContactSettings:
        dealer = self.dealers.get(dealer_id)
        return DealerContactSettings.model_validate(dealer.overrides("contact") if dealer else {})

    def priorities_for(self, dealer_id: str) -> Mapping[str, int]:
        """The queue order's purpose priorities: the dealer's own over the service's."""
        return {**self.priorities, **self._own(dealer_id).purpose_priority}

    def expire_after_days_for(self, dealer_id: str) -> Mapping[str, int]:
        return {**self.expire_after_days, **self._own(dealer_id).expire_after_days}

    def questionnaires_for(self, dealer_id: str, purposes: Iterable[str]) -> list[Questionnaire]:
        """D16/D17: the questionnaires of the task's purposes, the dealer's or its OEM's first."""
        dealer = self.dealers.get(dealer_id)
        return self.catalogue.for_purposes(purposes, dealer_id, dealer.oem if dealer else None)
