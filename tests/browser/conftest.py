# The flow fixtures live with the flow tests; the browser tests reuse the session harness.
from tests.flows.conftest import prefect_harness  # noqa: F401
