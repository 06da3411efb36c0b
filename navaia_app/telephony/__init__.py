"""Telephony providers behind one contract (`Provider`, telephony/base.py): twilio, elevenlabs and
simulated, each one class registered by name.

`get_provider()` returns the one TELEPHONY_PROVIDER names; tests and demos swap providers by
configuration (or `register_provider`), never by patching. Adapters only: they import core/.
"""

from navaia_app.telephony.base import (  # noqa: F401
    CallRequest,
    CallUpdate,
    ErrorKind,
    PlacedCall,
    PlacementError,
    Provider,
    Reporting,
    get_provider,
    provider_names,
    register_provider,
    unregister_provider,
)
