"""The wrk report parser against wrk 4.1's real output shapes.

Why: a unit slip (us read as ms) or a missing error line would silently corrupt every ratio.
Not under tests/ (the project's suite); run with
`.venv/bin/python -m pytest -p no:cacheprovider bench/test_wrkrun.py`.
"""

from __future__ import annotations

import pytest
from wrkrun import WrkError, parse

CLEAN = """Running 10s test @ http://127.0.0.1:8101/graphql
  1 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     5.30ms    2.54ms  35.67ms   97.28%
    Req/Sec     2.70k    95.29     2.90k    80.00%
  Latency Distribution
     50%    5.22ms
     75%    5.47ms
     90%    5.74ms
     99%   22.80ms
  27000 requests in 10.00s, 5.00MB read
Requests/sec:   2700.15
Transfer/sec:    500.00KB
bench_users: 1000
bad_responses: 0
"""

UNCLEAN = """Running 8s test @ http://127.0.0.1:8101/graphql
  1 threads and 1 connections
  Latency Distribution
     50%  380.00us
     75%  410.00us
     90%  500.00us
     99%    1.20s
  2000 requests in 8.00s, 1.00MB read
  Socket errors: connect 1, read 2, write 3, timeout 4
  Non-2xx or 3xx responses: 7
Requests/sec:    250.00
Transfer/sec:    125.00KB
bench_users: 200
bad_responses: 9
first_bad: 401 {"errors":[{"message":"no key"}]}
"""


def test_clean_run() -> None:
    r = parse(CLEAN)
    assert (r.rps, r.requests, r.duration_s) == (2700.15, 27000, 10.0)
    assert (r.p50_ms, r.p75_ms, r.p90_ms, r.p99_ms) == (5.22, 5.47, 5.74, 22.8)
    assert r.bad_responses == 0 and r.clean


def test_units_and_errors() -> None:
    r = parse(UNCLEAN)
    assert r.p50_ms == pytest.approx(0.38) and r.p99_ms == pytest.approx(1200.0)
    assert (r.socket_errors, r.timeouts, r.non_2xx, r.bad_responses) == (6, 4, 7, 9)
    assert r.first_bad.startswith("401 ") and not r.clean


def test_unchecked_script_is_minus_one() -> None:
    assert parse(CLEAN.replace("bad_responses: 0\n", "")).bad_responses == -1


def test_missing_latency_distribution_fails() -> None:
    with pytest.raises(WrkError, match="--latency"):
        parse(CLEAN.replace("     99%   22.80ms\n", ""))


def test_no_completed_request_is_not_clean() -> None:
    empty = CLEAN.replace("27000 requests in", "0 requests in")
    assert not parse(empty).clean
