"""`make token USER=<id>`: a development token signed with the local secret (HS256, 1 hour)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import jwt  # noqa: E402

from shared.config import get_settings  # noqa: E402


def main() -> None:
    user = sys.argv[1] if len(sys.argv) > 1 and sys.argv[1] else "alice"
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
