"""Fixtures shared by the integration tests: a webhook receiver on 127.0.0.1 and a Valkey of
the test's own (to stop and start again)."""

from tests.integrations.test_webhooks import receiver  # noqa: F401
from tests.live.test_outages import valkey  # noqa: F401
