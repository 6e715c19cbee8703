"""When a follow-up is too late to make (issue 10): it leaves the queue and is counted as not
made in time. Pure: no broker, no database.

Counted from the moment the contact first fell due (its first attempt), per purpose; a task of
several merged purposes (D13) stays while any of them is still worth the call.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from aftersales_contracts import ContactPurpose

#: Days a contact stays on the queue after it first fell due. The day-3 call falls due on the
#: second day after settlement (D6), so 13 days keep it until day 15 after settlement (default);
#: the other values are customary choices (default). Configuration: ContactSettings.
DEFAULT_EXPIRE_AFTER_DAYS: dict[str, int] = {
    ContactPurpose.SERVICE_CALL_DAY3.value: 13,
    ContactPurpose.SALES_CALL_DAY3.value: 13,
    ContactPurpose.SMS_SURVEY_DAY7.value: 8,
    ContactPurpose.SERVICE_CALL_DAY30.value: 15,
    ContactPurpose.FIRST_MAINTENANCE_REMINDER.value: 7,
    ContactPurpose.MAINTENANCE_REMINDER.value: 7,
    ContactPurpose.BIRTHDAY_CARE.value: 3,
    ContactPurpose.INSURANCE_EXPIRY_CARE.value: 14,
    ContactPurpose.LICENCE_EXPIRY_CARE.value: 14,
    ContactPurpose.LAPSED_CUSTOMER_RECALL.value: 30,
}
UNLISTED_EXPIRE_AFTER_DAYS = 14


def expires_at_for(
    purposes: Iterable[str], first_due_at: datetime, days: Mapping[str, int]
) -> datetime:
    longest = max(
        (days.get(p, UNLISTED_EXPIRE_AFTER_DAYS) for p in purposes),
        default=UNLISTED_EXPIRE_AFTER_DAYS,
    )
    return first_due_at + timedelta(days=longest)
