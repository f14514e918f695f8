"""`make token USER=<id>`: a development token signed with the local secret (HS256, 1 hour).

While `make local-api` runs (and no auth setting is given), it signs with that run's secret."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import jwt  # noqa: E402

from shared.config import get_settings  # noqa: E402


def use_local_api_secret() -> None:
    state = Path(__file__).resolve().parent.parent / ".data" / "local-api" / "running.json"
    if os.environ.get("AUTH_JWT_SECRET") or os.environ.get("AUTH_JWKS_URL") or not state.exists():
        return
    running = json.loads(state.read_text())
    if "secret_file" not in running:  # that run was given its AUTH_JWT_SECRET: the caller has it
        return
    try:
        os.kill(running["pid"], 0)
    except ProcessLookupError:
        return
    os.environ.update(APP_ENV="dev", AUTH_JWT_SECRET=Path(running["secret_file"]).read_text().strip())


def main() -> None:
    user = sys.argv[1] if len(sys.argv) > 1 and sys.argv[1] else "alice"
    use_local_api_secret()
    settings = get_settings()
    if settings.auth_jwt_secret is None:
        sys.exit("make token needs AUTH_JWT_SECRET (or no auth setting, in APP_ENV=local)")
    now = int(time.time())
    claims = {"sub": user, "iat": now, "exp": now + 3600}
    if settings.auth_issuer:
        claims["iss"] = settings.auth_issuer
    if settings.auth_audience:
        claims["aud"] = settings.auth_audience
    print(jwt.encode(claims, settings.auth_jwt_secret.get_secret_value(), algorithm="HS256"))


if __name__ == "__main__":
    main()
