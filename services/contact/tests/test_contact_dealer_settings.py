"""A dealer's own contact settings (dealer directory, `settings.contact`) over the service's."""

import pytest
from aftersales_contact.desk import Desk
from aftersales_contact.settings import DealerContactSettings
from aftersales_runtime.dealers import DealerDirectory
from pydantic import ValidationError


def desk_for(directory: DealerDirectory) -> Desk:
    return Desk(
        store=None,  # type: ignore[arg-type]
        queue=None,  # type: ignore[arg-type]
        clock=None,  # type: ignore[arg-type]
        lease=None,  # type: ignore[arg-type]
        priorities={"service_call_day3": 10, "birthday_care": 50},
        expire_after_days={"service_call_day3": 13},
        pending=None,  # type: ignore[arg-type]
        dealers=directory,
    )


DIRECTORY = DealerDirectory.from_mapping(
    {
        "dealers": {
            "d-1": {
                "oem": "oem-a",
                "settings": {
                    "contact": {
                        "purpose_priority": {"birthday_care": 5},
                        "expire_after_days": {"service_call_day3": 5},
                    }
                },
            },
            "d-2": {},
        }
    }
)


def test_a_dealers_priorities_and_expiry_override_the_services():
    desk = desk_for(DIRECTORY)
    assert desk.priorities_for("d-1") == {"service_call_day3": 10, "birthday_care": 5}
    assert desk.priorities_for("d-2") == {"service_call_day3": 10, "birthday_care": 50}
    assert desk.expire_after_days_for("d-1") == {"service_call_day3": 5}
    assert desk.expire_after_days_for("unknown") == {"service_call_day3": 13}


@pytest.mark.parametrize(
    "broken",
    [{"purpose_priority": {"birthday_care": 0}}, {"expiry_days": {}}, {"expire_after_days": []}],
)
def test_a_dealers_broken_settings_are_refused(broken):
    with pytest.raises(ValidationError):
        DealerContactSettings.model_validate(broken)
