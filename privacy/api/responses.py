"""The JSON Schemas of what the privacy endpoints answer, as the OpenAPI document publishes them."""

from customers.api.schemas import BOOLEAN, STRING, enum, nullable, obj
from privacy.models import CONSENT_FIELDS, CommunicationPreference

HH_MM = {"type": "string", "pattern": r"^\d{2}:\d{2}$"}

# A customer's communication preferences (privacy.queries.preferences_json).
PREFERENCES = obj(
    {
        **{name: BOOLEAN for name in CONSENT_FIELDS},
        "frequency": enum(CommunicationPreference.Frequency.values),
        "preferred_channel": enum(CommunicationPreference.PreferredChannel.values),
        "timezone": STRING,
        "quiet_hours_start": nullable(HH_MM),
        "quiet_hours_end": nullable(HH_MM),
    }
)
