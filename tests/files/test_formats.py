"""Every format a stack ships, read from samples written from each format's documentation
(`tests/fixtures/formats/README.md` cites them): the time, level, service and message of each
record, the lines joined into the record before them, and the format each file is detected as.
"""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from analyzer.model import LogRecord, Query, Severity, instant_ns
from analyzer.sources.files import FileSource

FORMATS = Path(__file__).resolve().parent.parent / "fixtures" / "formats"
CHANGED = datetime(2026, 12, 1, tzinfo=UTC)  # every sample's last change: years and dates from it
EVERYTHING = Query(start="1970-01-01T00:00:00Z", end="2100-01-01T00:00:00Z")
CRI = "containers/web-5d9c7b-x2x4k_shop_web-4f2a9c7e1b3d5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8.log"
INFO, W, E, F = Severity.INFO, Severity.WARN, Severity.ERROR, Severity.FATAL


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("formats") / "formats"
    shutil.copytree(FORMATS, target)
    stamp = CHANGED.timestamp()
    for path in target.rglob("*"):
        os.utime(path, (stamp, stamp))
    return target


@pytest.fixture(scope="module")
def source(samples: Path) -> FileSource:
    return FileSource(str(samples))


@pytest.fixture(scope="module")
def records(source: FileSource) -> dict[str, LogRecord]:
    return {r.origin: r for r in source.fetch(EVERYTHING).records}


# origin -> (time, level, service, start of the message)
EXPECTED = {
    # Kubernetes CRI: the wrapped line is read again (JSON, logfmt, text)
    f"{CRI}:1": ("2016-10-06T00:17:09.669794202Z", INFO, "web", "The content of the log entry 1"),
    f"{CRI}:2": ("2016-10-06T00:17:09.669794204Z", INFO, "web", "First line of log entry 2, and the rest"),
    f"{CRI}:4": ("2016-10-06T00:17:10.113242941Z", E, "checkout", "payment declined"),
    f"{CRI}:5": ("2016-10-06T00:17:11.000000001Z", E, "web", "unhandled error in worker"),
    f"{CRI}:9": ("2016-10-06T00:17:12Z", W, "web", "cache miss rate high"),
    # Docker json-file
    "docker/3f4e8a1c9b2d-json.log:1": ("2019-01-01T11:11:11.111111111Z", INFO, "3f4e8a1c9b2d", "Log line is here"),
    "docker/3f4e8a1c9b2d-json.log:2": ("2019-01-01T11:11:12Z", E, "3f4e8a1c9b2d", "order 42 failed"),
    # syslog RFC 3164: PRI when present, else the words; the program is the service
    "syslog:1": ("2026-10-11T22:14:15Z", F, "su", "'su root' failed for lonvick"),
    "syslog:2": ("2026-02-05T17:32:18Z", INFO, "myproc", "Use the BFG!"),
    "syslog:3": ("2026-11-24T08:05:00Z", INFO, "sshd", "Accepted publickey for deploy"),
    "syslog:4": ("2026-11-24T08:05:01Z", W, "sshd", "Failed password for invalid user admin"),
    "syslog:5": ("2026-11-24T08:05:02Z", E, "kernel", "[81234.567890] Out of memory: Killed process"),
    "syslog:8": ("2026-11-24T08:05:05Z", INFO, "rsyslogd", "last message repeated 3 times"),
    "syslog:9": ("2026-11-24T08:05:06Z", E, "app", "ERROR request failed"),
    # syslog RFC 5424
    "rfc5424.log:1": ("2003-10-11T22:14:15.003Z", F, "su", "'su root' failed for lonvick"),
    "rfc5424.log:2": ("2003-08-24T12:14:15.000003Z", INFO, "myproc", "%% It's time to make the do-nuts."),
    "rfc5424.log:3": ("2003-10-11T22:14:15.003Z", INFO, "evntslog", "An application event log entry..."),
    # rsyslog with ISO times and offsets
    "messages:1": ("2024-05-01T08:00:00.123456Z", INFO, "systemd", "Started Session 3 of user root."),
    "messages:2": ("2024-05-01T08:00:01.000001Z", E, "kernel", "usb 1-1: device descriptor read/64, error -71"),
    # journald JSON export: PRIORITY, SYSLOG_IDENTIFIER / _COMM, __REALTIME_TIMESTAMP (us)
    "journal.json:1": ("2023-11-14T22:13:19.123456Z", E, "sshd", "error: kex_exchange_identification"),
    "journal.json:2": ("2023-11-14T22:13:20.000001Z", INFO, "systemd", "Started Daily apt download"),
    "journal.json:3": ("2023-11-14T22:13:21Z", W, "nginx", "nginx: warn"),
    # access logs: the HTTP status is the level; the directory names the service
    "nginx/access.log:1": ("2023-10-10T11:55:36Z", INFO, "nginx", '"GET /api/items?id=3 HTTP/1.1" 200'),
    "nginx/access.log:2": ("2023-10-10T11:55:37Z", W, "nginx", '"POST /api/orders HTTP/1.1" 404'),
    "nginx/access.log:3": ("2023-10-10T11:55:38Z", E, "nginx", '"GET /api/pay HTTP/1.1" 502'),
    "apache/access_log:1": ("2000-10-10T20:55:36Z", INFO, "apache", '"GET /apache_pb.gif HTTP/1.0" 200 2326'),
    "apache/access_log:3": ("2000-10-10T20:55:38Z", E, "apache", '"GET /cgi-bin/broken HTTP/1.1" 500'),
    # error logs
    "nginx/error.log:1": ("2023-10-10T13:55:38Z", E, "nginx", "connect() failed (111: Connection refused)"),
    "nginx/error.log:2": ("2023-10-10T13:55:40Z", W, "nginx", "an upstream response is buffered"),
    "nginx/error.log:3": ("2023-10-10T13:56:00Z", INFO, "nginx", "signal process started"),
    "apache/error_log:1": ("2011-09-09T10:42:29.902022Z", E, "apache", "File does not exist"),
    "apache/error_log:2": ("2000-10-11T14:32:52Z", E, "apache", "client denied by server configuration"),
    "apache/error_log:3": ("2011-09-09T10:43:00.000001Z", INFO, "apache", "AH00489: Apache/2.4.57"),
    # klog: level letter, no year
    "kube-scheduler.log:1": ("2026-07-15T14:22:09.123456Z", INFO, "kube-scheduler", "Generated self-signed cert"),
    "kube-scheduler.log:2": ("2026-07-15T14:22:09.523456Z", W, "kube-scheduler", "No authentication-kubeconfig"),
    "kube-scheduler.log:3": ("2026-07-15T14:22:10.000001Z", E, "kube-scheduler", "k8s.io/client-go/informers"),
    "kube-scheduler.log:5": ("2026-07-15T14:22:12Z", F, "kube-scheduler", "failed to start: listen tcp :10259"),
    # Java: logback's clock without a date takes the day of the last change (or the day before)
    "logback.log:1": ("2026-11-30T14:22:09.123Z", INFO, "logback", "Started ShopApplication"),
    "logback.log:2": ("2026-11-30T14:22:10.001Z", E, "logback", "Order 42 failed"),
    "logback.log:9": ("2026-11-30T14:22:11.5Z", W, "logback", "Stock below threshold"),
    "log4j.log:2": ("2023-08-20T12:00:05.456Z", E, "log4j", "Charge failed for invoice 991"),
    "log4j.log:5": ("2023-08-20T12:00:06Z", W, "log4j", "Retrying invoice 991"),
    "spring.log:1": ("2023-08-20T10:00:00.123Z", INFO, "spring", "Starting DemoApplication"),
    "spring.log:3": ("2023-08-20T10:00:02.789Z", E, "spring", "Servlet.service() for servlet"),
    # Python logging, with and without a time; gunicorn
    "worker.log:2": ("2023-08-20T12:00:01.5Z", E, "worker", "job 17 failed"),
    "worker.log:7": ("2023-08-20T12:00:02Z", W, "worker", "retrying job 17"),
    "basic-python.log:2": ("2026-12-01T00:00:00Z", W, "basic-python", "disk almost full"),
    "gunicorn.log:3": ("2023-08-20T12:00:31Z", F, "gunicorn", "WORKER TIMEOUT (pid:8)"),
    # logfmt (Loki's own lines, Go slog)
    "loki.log:1": ("2023-08-20T12:00:00.123456789Z", INFO, "loki", "Starting Loki"),
    "loki.log:2": ("2023-08-20T12:00:01Z", W, "loki", "stream rate limit exceeded"),
    "loki.log:3": ("2023-08-20T10:00:02Z", E, "loki", "request failed"),
    # Debian's package logs
    "dpkg.log:1": ("2025-06-24T14:36:25Z", INFO, "dpkg", "startup archives unpack"),
    "alternatives.log:1": ("2025-06-24T14:36:53Z", INFO, "update-alternatives", "run with --quiet"),
    "apt/history.log:7": ("2025-06-24T14:37:36Z", E, "apt", "Start-Date: 2025-06-24  14:37:36"),
    "apt/term.log:2": ("2025-06-24T14:37:36Z", E, "apt", "Log started: 2025-06-24  14:37:36"),
    # JSON of the ecosystems
    "json/ecs.json:1": ("2019-08-06T12:09:12.375Z", INFO, "spring-petclinic", "Tomcat started on port(s)"),
    "json/ecs.json:2": ("2019-08-06T12:09:13.001Z", E, "spring-petclinic", "Request processing failed"),
    "json/ecs.json:3": ("2019-08-06T12:09:14Z", W, "billing", "invoice run slow"),
    "json/otel.jsonl:1": ("2020-04-15T14:23:06Z", E, "checkout", "20200415T072306-0700 ERROR Failed"),
    "json/otel.jsonl:2": ("2023-08-20T12:00:00.000000001Z", W, "queue-worker", "queue depth high"),
    "json/bunyan.log:1": ("2013-01-04T18:46:23.851Z", INFO, "myapp", "hi"),
    "json/bunyan.log:2": ("2013-01-04T18:46:24Z", E, "myapp", "boom"),
    "json/pino.log:1": ("2018-07-09T21:17:54.631Z", INFO, "pino", "hello world"),
    "json/pino.log:2": ("2018-07-09T21:17:55Z", W, "pino", "slow response"),
    "json/pino.log:3": ("2018-07-09T21:17:56Z", F, "pino", "cannot bind port"),
    "json/structlog.jsonl:2": ("2023-08-20T12:00:01Z", E, "structlog", "payment failed"),
    "json/gcp.jsonl:1": ("2020-10-12T07:20:50.52Z", E, "gcp", "There was an error in the application."),
    "json/gcp.jsonl:2": ("2020-10-12T07:20:51Z", INFO, "frontend", "GET /cart 200"),
    "json/aws.jsonl:1": ("2023-10-27T19:17:45.586Z", INFO, "aws", "some log message"),
    "json/aws.jsonl:2": ("2021-05-03T09:47:12.494Z", E, "payment", "order failed"),
    "json/aws.jsonl:3": ("2023-10-27T19:17:45.586Z", E, "orders", "Something failed"),
    "json/logcli.jsonl:1": ("2024-01-01T00:00:00.123456789Z", E, "api", "upstream timeout"),
    "json/logcli.jsonl:2": ("2024-01-01T00:00:01Z", INFO, "api", "ok"),
    "json/gelf.json:1": ("2013-11-21T17:11:02.3072Z", F, "gelf", "A short message that helps"),
}


@pytest.mark.parametrize("origin", EXPECTED)
def test_each_record_has_its_time_level_service_and_message(
    records: dict[str, LogRecord], origin: str
) -> None:
    time, level, service, message = EXPECTED[origin]
    record = records[origin]
    assert record.timestamp_ns == instant_ns(time)
    assert (record.level, record.service) == (level, service)
    assert record.message.startswith(message)


DETECTED = {
    CRI: "cri",
    "docker/3f4e8a1c9b2d-json.log": "json (docker)",
    "syslog": "syslog",
    "rfc5424.log": "syslog-rfc5424",
    "messages": "syslog-iso",
    "journal.json": "json (journald)",
    "nginx/access.log": "access-log",
    "nginx/error.log": "nginx-error",
    "apache/access_log": "access-log",
    "apache/error_log": "apache-error",
    "kube-scheduler.log": "klog",
    "logback.log": "logback",
    "log4j.log": "log4j",
    "spring.log": "spring-boot",
    "worker.log": "python-logging",
    "basic-python.log": "python-logging-basic",
    "gunicorn.log": "gunicorn",
    "loki.log": "logfmt",
    "dpkg.log": "iso-prefixed",
    "alternatives.log": "alternatives",
    "apt/history.log": "apt",
    "apt/term.log": "apt",
    "json/ecs.json": "json (ecs)",
    "json/otel.jsonl": "json (otel)",
    "json/bunyan.log": "json (bunyan)",
    "json/pino.log": "json (pino)",
    "json/structlog.jsonl": "json (structlog)",
    "json/gcp.jsonl": "json (gcp)",
    "json/aws.jsonl": "json (aws)",
    "json/logcli.jsonl": "json (loki)",
    "json/gelf.json": "json (gelf)",
}


def test_each_file_is_detected_as_its_format_and_every_line_is_accounted_for(
    source: FileSource,
) -> None:
    account = source.input_account()
    formats = {a.file: a.format for a in account.files}
    assert formats == DETECTED
    for file in account.files:
        c = file.counts
        assert c.unparsed == 0, file.file
        assert c.records + c.joined + c.blank >= c.lines, file.file  # an OTLP line holds several


# ----- multiline ---------------------------------------------------------------------------


def lines_of(record: LogRecord) -> list[str]:
    return record.message.splitlines()


def test_a_java_stack_trace_with_its_causes_joins_its_record(records: dict[str, LogRecord]) -> None:
    assert lines_of(records["logback.log:2"]) == [
        "Order 42 failed",
        "java.lang.IllegalStateException: out of stock",
        "\tat com.example.shop.OrderService.place(OrderService.java:42)",
        "\tat com.example.shop.OrderController.create(OrderController.java:27)",
        "Caused by: java.sql.SQLTransientConnectionException: HikariPool-1 - Connection is not "
        "available, request timed out after 30000ms.",
        "\tat com.zaxxer.hikari.pool.HikariPool.createTimeoutException(HikariPool.java:696)",
        "\t... 12 common frames omitted",
    ]
    assert "logback.log:3" not in records


def test_a_python_traceback_joins_the_record_that_logged_it(records: dict[str, LogRecord]) -> None:
    assert lines_of(records["worker.log:2"])[1:] == [
        "Traceback (most recent call last):",
        '  File "/srv/shop/worker.py", line 41, in run',
        "    total = amount / count",
        "ZeroDivisionError: division by zero",
    ]


def test_a_traceback_joins_a_record_of_a_format_without_time(records: dict[str, LogRecord]) -> None:
    assert lines_of(records["basic-python.log:3"])[1:] == [
        "Traceback (most recent call last):",
        '  File "/srv/shop/web.py", line 8, in handle',
        "KeyError: 'user'",
    ]


def test_a_go_panic_dump_joins_the_fatal_klog_line(records: dict[str, LogRecord]) -> None:
    assert lines_of(records["kube-scheduler.log:5"])[1:] == [
        "goroutine 1 [running]:",
        "k8s.io/klog/v2.stacks(0x1)",
        "\t/go/pkg/mod/k8s.io/klog/v2@v2.100.1/klog.go:860 +0x89",
    ]


def test_docker_entries_of_a_stack_trace_join_the_entry_before_them(
    records: dict[str, LogRecord],
) -> None:
    assert lines_of(records["docker/3f4e8a1c9b2d-json.log:2"]) == [
        "order 42 failed",
        "java.lang.IllegalStateException: no stock",
        "\tat com.shop.Orders.place(Orders.java:42)",
        "Caused by: java.sql.SQLException: timeout",
        "\t... 12 more",
    ]
    assert records["docker/3f4e8a1c9b2d-json.log:2"].fields["logger"] == "com.shop.Orders"


def test_cri_partial_lines_are_one_record_and_tracebacks_join(records: dict[str, LogRecord]) -> None:
    assert f"{CRI}:3" not in records
    assert lines_of(records[f"{CRI}:5"])[1:] == [
        "Traceback (most recent call last):",
        '  File "worker.py", line 3, in <module>',
        "ZeroDivisionError: division by zero",
    ]
    assert records[f"{CRI}:4"].correlation_id == "req-77"


def test_apt_blocks_are_one_record_from_their_start_date(records: dict[str, LogRecord]) -> None:
    block = lines_of(records["apt/history.log:7"])
    assert block[1:] == [
        "Commandline: apt-get install -y nginx",
        "Install: nginx:amd64 (1.22.1-9)",
        "Error: Sub-process /usr/bin/dpkg returned an error code (1)",
    ]
    assert records["apt/history.log:11"].message == "End-Date: 2025-06-24  14:37:40"


# ----- fields --------------------------------------------------------------------------------


def test_header_groups_become_fields(records: dict[str, LogRecord]) -> None:
    assert records["syslog:3"].fields["host"] == "web01"
    assert records["syslog:3"].fields["pid"] == "1234"
    access = records["nginx/access.log:2"]
    assert (access.fields["client"], access.fields["user"], access.fields["path"]) == (
        "203.0.113.8", "alice", "/api/orders",
    )
    assert access.fields["status"] == 404 and access.success is True
    assert records["kube-scheduler.log:3"].fields["source"] == "reflector.go:138"
    assert records["rfc5424.log:3"].fields["msgid"] == "ID47"


def test_klog_structured_pairs_become_fields(records: dict[str, LogRecord]) -> None:
    record = records["kube-scheduler.log:4"]
    assert (record.fields["pod"], record.fields["node"]) == ("shop/web-5d9c7b-x2x4k", "node-2")


def test_an_otlp_batch_line_holds_one_record_per_log_record(source: FileSource) -> None:
    records = [r for r in source.fetch(EVERYTHING).records if r.origin == "json/otel.jsonl:3"]
    assert [(r.service, r.level, r.message) for r in records] == [
        ("cart", INFO, "cart created"),
        ("cart", F, "cart store unreachable"),
    ]
    assert records[0].fields["cart.id"] == "c-1"
