"""Systems the readers were not tuned on: the other Loghub systems, written from the header
layouts of the Loghub benchmark settings (logpai/logparser), and other everyday servers. Each
file is detected alone, and every line gets its time and, where the line says one, its level."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from analyzer.model import Query, Severity, instant_ns
from analyzer.sources.files import FileSource

EVERYTHING = Query(start="1970-01-01T00:00:00Z", end="2100-01-01T00:00:00Z")
CHANGED = datetime(2026, 12, 1, tzinfo=UTC)

SYSTEMS = {
    # <Date> <Time>  <Pid>  <Tid> <Level> <Component>: <Content>
    "Android": (
        "03-17 16:13:38.811  1702  2395 D WindowManager: printFreezingDisplayLogsopening app wtoken\n"
        "03-17 16:13:38.859  1702  8671 E PowerManagerService: release:lock=233570404, flg=0x0\n",
        [("2026-03-17T16:13:38.811Z", Severity.DEBUG), ("2026-03-17T16:13:38.859Z", Severity.ERROR)],
    ),
    # <Date> <Time> <Level> \[<Process>\] <Component>: <Content>
    "Hadoop": (
        "2015-10-18 18:01:47,978 INFO [main] org.apache.hadoop.mapreduce.v2.app.MRAppMaster: Created MRAppMaster\n"
        "2015-10-18 18:01:48,963 WARN [main] org.apache.hadoop.util.NativeCodeLoader: Unable to load native-hadoop library\n",
        [("2015-10-18T18:01:47.978Z", Severity.INFO), ("2015-10-18T18:01:48.963Z", Severity.WARN)],
    ),
    # <Month>  <Date> <Time> <User> <Component>\[<PID>\]( \(<Address>\))?: <Content>
    "Mac": (
        "Jul  1 09:00:55 calvisitor-10-105-160-95 kernel[0]: IOThunderboltSwitch<0>(0x0)::listenerCallback\n"
        "Jul  1 09:01:05 calvisitor-10-105-160-95 com.apple.CDScheduler[43]: Thermal pressure state: 1\n",
        [("2026-07-01T09:00:55Z", Severity.INFO), ("2026-07-01T09:01:05Z", Severity.INFO)],
    ),
    # <Logrecord> <Date> <Time> <Pid> <Level> <Component> \[<ADDR>\] <Content>
    "OpenStack": (
        "nova-api.log.1.2017-05-16_13:53:08 2017-05-16 00:00:00.008 25746 INFO nova.osapi_compute.wsgi.server "
        '[req-38101a0b-2096-447d-96ea-a692162415ae 113d3a99c3da401fbd62cc2caa5b96d2 - - -] 10.11.10.1 "GET /v2/servers/detail HTTP/1.1" status: 200\n'
        "nova-compute.log.1.2017-05-16_13:55:31 2017-05-16 00:00:04.500 2931 ERROR nova.compute.manager "
        "[req-3ea4052c-895d-4b64-9e2d-04d64c4d94ab - - - - -] [instance: b9000564] Instance failed to spawn\n",
        [("2017-05-16T00:00:00.008Z", Severity.INFO), ("2017-05-16T00:00:04.5Z", Severity.ERROR)],
    ),
    # <Date> <Time> <Level> <Component>: <Content>
    "Spark": (
        "17/06/09 20:10:40 INFO executor.CoarseGrainedExecutorBackend: Registered signal handlers for [TERM, HUP, INT]\n"
        "17/06/09 20:11:11 ERROR executor.Executor: Exception in task 0.0 in stage 1.0\n",
        [("2017-06-09T20:10:40Z", Severity.INFO), ("2017-06-09T20:11:11Z", Severity.ERROR)],
    ),
    # <Label> <Timestamp> <Date> <User> <Month> <Day> <Time> <Location> <Component>(\[<PID>\])?: <Content>
    "Thunderbird": (
        "- 1131566461 2005.11.09 dn228 Nov 9 12:01:01 dn228/dn228 crond(pam_unix)[2915]: session closed for user root\n"
        "- 1131566462 2005.11.09 tbird-admin1 Nov 9 12:01:02 local@tbird-admin1 postfix/postdrop[10896]: warning: unable to look up public/pickup\n",
        [("2005-11-09T20:01:01Z", Severity.INFO), ("2005-11-09T20:01:02Z", Severity.WARN)],
    ),
    # <Date> <Time>, <Level>                  <Component>    <Content>
    "Windows": (
        "2016-09-28 04:30:30, Info                  CBS    Loaded Servicing Stack v6.1.7601.23505\n"
        "2016-09-28 04:30:31, Error                 CSI    00000001@2016/9/27:20:30:31.455 Failed to open file\n",
        [("2016-09-28T04:30:30Z", Severity.INFO), ("2016-09-28T04:30:31Z", Severity.ERROR)],
    ),
    # <Date> <Time> - <Level>  \[<Node>:<Component>@<Id>\] - <Content>
    "Zookeeper": (
        "2015-07-29 17:41:44,747 - INFO  [QuorumPeer[myid=1]/0:0:0:0:0:0:0:0:2181:FastLeaderElection@774] - Notification time out: 3200\n"
        "2015-07-29 19:04:12,394 - WARN  [RecvWorker:188978561024:QuorumCnxManager$RecvWorker@765] - Interrupting SendWorker\n",
        [("2015-07-29T17:41:44.747Z", Severity.INFO), ("2015-07-29T19:04:12.394Z", Severity.WARN)],
    ),
    # PostgreSQL's default log_line_prefix '%m [%p] '
    "PostgreSQL": (
        "2024-05-01 10:00:00.123 UTC [12345] LOG:  database system is ready to accept connections\n"
        '2024-05-01 10:00:05.000 UTC [12377] ERROR:  relation "orders" does not exist at character 15\n',
        [("2024-05-01T10:00:00.123Z", Severity.INFO), ("2024-05-01T10:00:05Z", Severity.ERROR)],
    ),
    # MySQL 8 error log
    "MySQL": (
        "2024-05-01T10:00:00.123456Z 0 [System] [MY-010116] [Server] /usr/sbin/mysqld (mysqld 8.0.36) starting as process 1\n"
        "2024-05-01T10:00:01.000001Z 0 [Warning] [MY-010068] [Server] CA certificate ca.pem is self signed.\n",
        [("2024-05-01T10:00:00.123456Z", Severity.INFO), ("2024-05-01T10:00:01.000001Z", Severity.WARN)],
    ),
    # MongoDB 4.4+ structured log: time under t.$date, a level letter under s (F E W I D1-D5)
    "MongoDB": (
        '{"t":{"$date":"2024-05-01T10:00:00.123+00:00"},"s":"I",  "c":"NETWORK",  "id":23016,   '
        '"ctx":"listener","msg":"Waiting for connections","attr":{"port":27017,"ssl":"off"}}\n'
        '{"t":{"$date":"2024-05-01T10:00:01.000+00:00"},"s":"E",  "c":"STORAGE",  "id":22435,   '
        '"ctx":"initandlisten","msg":"WiredTiger error","attr":{"error":13}}\n'
        '{"t":{"$date":"2024-05-01T10:00:02.000+00:00"},"s":"D2", "c":"COMMAND",  "id":51803,   '
        '"ctx":"conn12","msg":"Slow query"}\n',
        [("2024-05-01T10:00:00.123Z", Severity.INFO), ("2024-05-01T10:00:01Z", Severity.ERROR),
         ("2024-05-01T10:00:02Z", Severity.DEBUG)],
    ),
    # Ruby's Logger::Formatter (Rails): "%.1s, [%s #%d] %5s -- %s: %s"
    "Rails": (
        'I, [2024-05-01T10:00:00.123456 #12345]  INFO -- : Started GET "/" for 127.0.0.1\n'
        "E, [2024-05-01T10:00:01.000001 #12345] ERROR -- web: ActiveRecord::ConnectionNotEstablished\n",
        [("2024-05-01T10:00:00.123456Z", Severity.INFO), ("2024-05-01T10:00:01.000001Z", Severity.ERROR)],
    ),
    # Kafka's log4j layout: [%d] %p %m (%c)
    "Kafka": (
        "[2024-05-01 10:00:00,123] INFO [KafkaServer id=0] started (kafka.server.KafkaServer)\n"
        "[2024-05-01 10:00:01,456] WARN [Controller id=0] Broker 1 is not available (kafka.controller.KafkaController)\n",
        [("2024-05-01T10:00:00.123Z", Severity.INFO), ("2024-05-01T10:00:01.456Z", Severity.WARN)],
    ),
    # a program that colours its output for a terminal, captured to a file
    "coloured": (
        "\x1b[32m2024-05-01T10:00:00.123Z\x1b[0m \x1b[1;31mERROR\x1b[0m payment failed\n"
        "\x1b[32m2024-05-01T10:00:01Z\x1b[0m \x1b[34mINFO\x1b[0m ok\n",
        [("2024-05-01T10:00:00.123Z", Severity.ERROR), ("2024-05-01T10:00:01Z", Severity.INFO)],
    ),
    # the same through Docker's json-file driver (the escape character JSON-escaped)
    "coloured-docker": (
        '{"log":"\\u001b[32m2024-05-01 10:00:00,500\\u001b[0m \\u001b[31mERROR\\u001b[0m payment failed\\n","stream":"stderr",'
        '"time":"2024-05-01T10:00:00.600Z"}\n',
        [("2024-05-01T10:00:00.5Z", Severity.ERROR)],
    ),
    # nginx `log_format json escape=json '{"time_local":"$time_local",...}'`
    "nginx-json": (
        '{"time_local":"01/May/2024:10:00:00 +0000","remote_addr":"10.0.0.1","request":"GET / HTTP/1.1",'
        '"status":"502","body_bytes_sent":"0"}\n'
        '{"time_local":"01/May/2024:12:00:01 +0200","remote_addr":"10.0.0.1","request":"GET /a HTTP/1.1",'
        '"status":"200","body_bytes_sent":"10"}\n',
        [("2024-05-01T10:00:00Z", Severity.ERROR), ("2024-05-01T10:00:01Z", Severity.INFO)],
    ),
    # uber-go/zap's production JSON encoder: epoch seconds as a float under ts
    "zap": (
        '{"level":"info","ts":1714557600.5,"caller":"server/main.go:42","msg":"listening"}\n'
        '{"level":"error","ts":1714557601.25,"caller":"db/pool.go:88","msg":"connection refused"}\n',
        [("2024-05-01T10:00:00.5Z", Severity.INFO), ("2024-05-01T10:00:01.25Z", Severity.ERROR)],
    ),
    # Serilog's compact JSON (CLEF): @t, @mt or @m, @l only when not Information
    "serilog-clef": (
        '{"@t":"2024-05-01T10:00:00.1230000Z","@mt":"Listening on {Url}","Url":"http://x"}\n'
        '{"@t":"2024-05-01T10:00:01.0000000Z","@mt":"Payment {Id} declined","@l":"Error","Id":7}\n',
        [("2024-05-01T10:00:00.123Z", Severity.INFO), ("2024-05-01T10:00:01Z", Severity.ERROR)],
    ),
    # log4j2's JSON layouts: instant {epochSecond, nanoOfSecond}, or timeMillis before 2.11
    "log4j2-json": (
        '{"instant":{"epochSecond":1714557600,"nanoOfSecond":123456789},"thread":"main",'
        '"level":"INFO","loggerName":"com.example.App","message":"started"}\n'
        '{"timeMillis":1714557601000,"thread":"main","level":"ERROR","loggerName":"com.example.Db",'
        '"message":"pool exhausted"}\n',
        [("2024-05-01T10:00:00.123456789Z", Severity.INFO), ("2024-05-01T10:00:01Z", Severity.ERROR)],
    ),
    # Django's development server: [dd/Mon/yyyy hh:mm:ss] "request" status size
    "django-runserver": (
        '[01/May/2024 10:00:00] "GET / HTTP/1.1" 200 123\n'
        '[01/May/2024 10:00:01] "POST /pay HTTP/1.1" 500 12\n',
        [("2024-05-01T10:00:00Z", Severity.INFO), ("2024-05-01T10:00:01Z", Severity.ERROR)],
    ),
    # Envoy's default access log format
    "envoy-access": (
        '[2024-05-01T10:00:00.123Z] "GET /a HTTP/1.1" 200 - 0 12 3 2 "-" "curl/8.5" "5f1c" "web" "10.0.0.1:80"\n'
        '[2024-05-01T10:00:01.000Z] "GET /b HTTP/1.1" 503 UF 0 91 3 - "-" "curl/8.5" "5f1d" "web" "10.0.0.1:80"\n',
        [("2024-05-01T10:00:00.123Z", Severity.INFO), ("2024-05-01T10:00:01Z", Severity.ERROR)],
    ),
    # AWS Application Load Balancer access log (as S3 holds it): processing times, then status
    "aws-alb": (
        'http 2024-05-01T10:00:00.123456Z app/my-lb/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 '
        '0.000 0.001 0.000 200 200 34 366 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.46.0" - -\n'
        'http 2024-05-01T10:00:01.123456Z app/my-lb/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 '
        '0.000 -1 -1 502 - 34 366 "GET http://www.example.com:80/pay HTTP/1.1" "curl/7.46.0" - -\n',
        [("2024-05-01T10:00:00.123456Z", Severity.INFO), ("2024-05-01T10:00:01.123456Z", Severity.ERROR)],
    ),
    # PostgreSQL's '%m [%p] ' with a zone abbreviation (log_timezone = Europe/Berlin)
    "PostgreSQL-CEST": (
        "2024-05-01 12:00:00.123 CEST [123] LOG:  checkpoint starting: time\n"
        "2024-05-01 12:00:01.000 CEST [124] FATAL:  password authentication failed for user \"app\"\n",
        [("2024-05-01T10:00:00.123Z", Severity.INFO), ("2024-05-01T10:00:01Z", Severity.FATAL)],
    ),
}


@pytest.mark.parametrize("name", SYSTEMS)
def test_a_system_not_tuned_on_reads_with_its_times_and_levels(tmp_path: Path, name: str) -> None:
    text, expected = SYSTEMS[name]
    path = tmp_path / f"{name}.log"
    path.write_text(text)
    os.utime(path, (CHANGED.timestamp(), CHANGED.timestamp()))
    source = FileSource(str(path))
    records = sorted(source.fetch(EVERYTHING).records, key=lambda r: r.origin)
    assert [(r.timestamp_ns, r.level) for r in records] == [
        (instant_ns(time), level) for time, level in expected
    ]
    assert source.input_account().files[0].counts.unparsed == 0


def test_journalctl_short_iso_lines_are_named_by_their_program(tmp_path: Path) -> None:
    path = tmp_path / "journal.txt"
    path.write_text(
        "2024-05-01T10:00:00+0000 web-1 sshd[123]: Accepted publickey for deploy\n"
        "2024-05-01T10:00:01+0000 web-1 sshd[124]: error: kex_exchange_identification: closed\n"
    )
    records = FileSource(str(path)).fetch(EVERYTHING).records
    assert [(r.service, r.level) for r in records] == [("sshd", Severity.INFO), ("sshd", Severity.ERROR)]


def test_a_haproxy_line_takes_the_level_of_its_status(tmp_path: Path) -> None:
    path = tmp_path / "haproxy.log"
    path.write_text(
        'May  1 10:00:01 lb haproxy[123]: 10.0.0.1:5001 [01/May/2024:10:00:01.123] fe be/srv1 '
        '0/0/1/2/3 503 100 - - ---- 1/1/0/0/0 0/0 "GET /pay HTTP/1.1"\n'
    )
    records = FileSource(str(path)).fetch(EVERYTHING).records
    assert [(r.service, r.level) for r in records] == [("haproxy", Severity.ERROR)]
