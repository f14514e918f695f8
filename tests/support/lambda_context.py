"""What the Lambda runtime passes as `context`."""

from __future__ import annotations


class FakeLambdaContext:
    """A Lambda context with a given aws_request_id (a fresh one per invocation in the tests)."""

    function_name = "tasks-api-test"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:tasks-api-test:live"
    memory_limit_in_mb = 1024
    log_group_name = "/aws/lambda/tasks-api-test"
    log_stream_name = "2025/11/26/[$LATEST]0123456789abcdef0123456789abcdef"

    def __init__(self, aws_request_id: str = "test-request") -> None:
        self.aws_request_id = aws_request_id

    def get_remaining_time_in_millis(self) -> int:
        return 14_500
