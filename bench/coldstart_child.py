"""One cold start, run as `python3.12 -I -S coldstart_child.py FUNCTION_DIR MODULE` (stdlib only).

Reads one API Gateway event from stdin, imports MODULE from FUNCTION_DIR the way Lambda does
(read-only code: no bytecode is written), calls its `handler` once and prints one JSON line:
import and first-request seconds, status, and where fastapi came from. Exits without teardown.
"""

import importlib
import json
import os
import sys
import time


class Context:
    function_name = "tasks-api-bench"
    function_version = "1"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:tasks-api-bench:live"
    memory_limit_in_mb = 1024
    aws_request_id = "00000000-0000-4000-8000-000000000001"
    log_group_name = "/aws/lambda/tasks-api-bench"
    log_stream_name = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 15_000


def main() -> None:
    function_dir, module_name = sys.argv[1], sys.argv[2]
    sys.dont_write_bytecode = True
    sys.path.insert(0, function_dir)
    event = json.loads(sys.stdin.read())
    started = time.perf_counter()
    module = importlib.import_module(module_name)
    imported = time.perf_counter()
    response = module.handler(event, Context())
    served = time.perf_counter()
    fastapi_origin = getattr(sys.modules.get("fastapi"), "__file__", "") or ""
    print(
        json.dumps(
            {
                "import_s": imported - started,
                "first_request_s": served - imported,
                "status": response["statusCode"],
                "fastapi_from_artifact": fastapi_origin.startswith(os.path.abspath(function_dir)),
                "modules": len(sys.modules),
            }
        ),
        flush=True,
    )
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
