"""The exit codes every `pinlake` command keeps; the README's "Exit codes" table is TABLE.

A script can tell a failed run from a mistyped option, a stack that is down, a wait that ran
out and a refused login without parsing messages; the message on stderr says the rest.
"""

from __future__ import annotations

from enum import IntEnum


class Exit(IntEnum):
    """A command's exit code; TABLE says what each means."""

    OK = 0
    FAILED = 1
    USAGE = 2
    UNREACHABLE = 3
    TIMEOUT = 4
    REFUSED = 5


TABLE = (
    (Exit.OK, "done (for `status`: every service running and healthy)"),
    (Exit.FAILED, "a check, quality gate, job, DAG run or query failed; the output names what"),
    (Exit.USAGE, "the command line is wrong: an unknown option, a bad value, an unreadable input file"),
    (Exit.UNREACHABLE, "a service the command needs is not running or does not answer (`pinlake up`?)"),
    (Exit.TIMEOUT, "the command waited, and what it waited for had not ended in time"),
    (Exit.REFUSED, "a service refused the credentials (the API key, Airflow's login)"),
)
