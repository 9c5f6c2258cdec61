"""The crypto tests' fixtures (a trust store folder, cheap KDF costs, a demo PKI) serve the tool's tests too."""
from tests.crypto.conftest import _crypto_config, demo_pki  # noqa: F401
