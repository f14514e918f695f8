"""The cold-start floor: the design's libraries, imported bare, behind a one-route hello handler.

Copied into a copy of the built artifact's dependency folder (the app's own functions/ and shared/
removed) as bench_hello.py and compiled the way scripts/build.sh compiles the artifact.
"""

import fastapi
import mangum
import psycopg2
import pydantic_settings  # noqa: F401  (imported for its cost, as the app does)
import sqlmodel  # noqa: F401

app = fastapi.FastAPI()


@app.get("/hello")
def hello() -> dict[str, str]:
    return {"hello": "world"}


@app.get("/hello/db")
def hello_db() -> dict[str, str]:
    """Informational variant: one psycopg2 connection and one query, to price the connect."""
    import os

    with psycopg2.connect(os.environ["DATABASE_URL"]) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"hello": "db"}


handler = mangum.Mangum(app, lifespan="off")
