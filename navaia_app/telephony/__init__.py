"""Telephony providers behind one interface (`Provider`): twilio, elevenlabs and simulated.

`get_provider()` returns the one TELEPHONY_PROVIDER names; tests and demos swap providers by
configuration, never by patching.
"""

from navaia_app.telephony.base import (  # noqa: F401
    CallRequest,
    CallUpdate,
    PlacedCall,
    PlacementError,
    Provider,
    get_provider,
)
