"""Phone numbers to E.164 (the internal `Customer.phone` requires it), with intake's reasons.

The normalisation itself is the contracts' one (`aftersales_contracts.phones`), shared with
contact's data check (D30); here it only gains the reasons a refused record is kept with (D5).
"""

from __future__ import annotations

from aftersales_contracts.phones import phone_text, to_e164

from aftersales_intake.domain.reasons import Reason, Refused


def _refuse(field: str, text: str) -> Refused:
    if not text:
        return Refused(Reason("phone.missing", field, "a phone number is required"))
    return Refused(
        Reason(
            "phone.invalid",
            field,
            "not a valid mobile or landline number (e.g. 13800138000, 0755-88886666, +86 …)",
        )
    )


def normalise_phone(raw: str | None, field: str = "customer.phone") -> str:
    """The E.164 form of ``raw``; raises Refused with code phone.missing / phone.invalid."""
    found = to_e164(raw)
    if found is None:
        raise _refuse(field, phone_text(raw))
    return found
