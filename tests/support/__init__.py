"""What the tests share: one strict problem check, tokens, a JWKS server, a Lambda context, a
signed-in user's client, and the per-worker test databases. Import from the submodules."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
