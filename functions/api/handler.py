"""The Lambda entry: the app, built once per container, wrapped by Mangum."""

from mangum import Mangum

from functions.api.app import create_app

# lifespan="off": Mangum would run the ASGI lifespan on every invocation.
handler = Mangum(create_app(), lifespan="off")
