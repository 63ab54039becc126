"""A local stand-in for Loki that replays recorded entries at benchmark volume.

The entries are the ones pushed to a real Loki 3.5 in the recorded `push_ok.json`; the answer
has the shape Loki gave to `query_range` with `X-Loki-Response-Encoding-Flags: categorize-labels`
(`query_range_categorized_labels.json`): index labels plus `service_name` in `stream`, structured
metadata (with Loki's `detected_level`) as the third element of each value. Entries are replicated
with evenly spaced timestamps to reach the volume asked for. It honours start (inclusive), end
(exclusive), limit and direction, which is what paging needs; it does not evaluate LogQL filters,
so benchmarks send plain selectors.
"""

from __future__ import annotations

import bisect
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit


class ReplayedLoki:
    def __init__(self, fixtures_dir: Path, *, entries: int, start_ns: int, end_ns: int) -> None:
        push = json.loads((fixtures_dir / "push_ok.json").read_text())["request"]["body"]
        shape = json.loads((fixtures_dir / "query_range_categorized_labels.json").read_text())
        self.stats = shape["body"]["data"]["stats"]
        recorded: list[tuple[dict[str, str], str, dict[str, str]]] = []
        for stream in push["streams"]:
            labels = dict(stream["stream"])
            labels.setdefault("service_name", labels.get("service", "unknown_service"))
            for value in stream["values"]:
                metadata = dict(value[2]) if len(value) > 2 else {}
                recorded.append((labels, value[1], metadata))
        step = max(1, (end_ns - start_ns) // entries)
        self.times = [start_ns + i * step for i in range(entries)]
        self.rows = [recorded[i % len(recorded)] for i in range(entries)]
        self.requests = 0
        self.server: ThreadingHTTPServer | None = None

    def answer(self, params: dict[str, str], categorize: bool) -> dict[str, Any]:
        start, end = int(params["start"]), int(params["end"])
        limit = int(params.get("limit", "100"))
        lo = bisect.bisect_left(self.times, start)
        hi = bisect.bisect_left(self.times, end)
        picked = (
            range(hi - 1, lo - 1, -1)
            if params.get("direction", "backward") == "backward"
            else range(lo, hi)
        )
        streams: dict[str, dict[str, Any]] = {}
        for n, i in enumerate(picked):
            if n >= limit:
                break
            labels, line, metadata = self.rows[i]
            level = json.loads(line).get("level", "info") if line.startswith("{") else "info"
            metadata = {**metadata, "detected_level": level}
            if categorize:
                key = json.dumps(labels, sort_keys=True)
                stream = streams.setdefault(key, {"stream": labels, "values": []})
                stream["values"].append(
                    [str(self.times[i]), line, {"structuredMetadata": metadata}]
                )
            else:
                merged = {**labels, **metadata}
                key = json.dumps(merged, sort_keys=True)
                stream = streams.setdefault(key, {"stream": merged, "values": []})
                stream["values"].append([str(self.times[i]), line])
        data: dict[str, Any] = {
            "resultType": "streams",
            "result": list(streams.values()),
            "stats": self.stats,
        }
        if categorize:
            data["encodingFlags"] = ["categorize-labels"]
        return {"status": "success", "data": data}

    def start(self) -> str:
        replay = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                return

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                replay.requests += 1
                if url.path == "/ready":
                    self._send(200, "text/plain; charset=utf-8", b"ready\n")
                    return
                if url.path != "/loki/api/v1/query_range":
                    self._send(404, "text/plain; charset=utf-8", b"404 page not found\n")
                    return
                params = {k: v[0] for k, v in parse_qs(url.query).items()}
                flags = self.headers.get("X-Loki-Response-Encoding-Flags", "")
                body = json.dumps(replay.answer(params, "categorize-labels" in flags)).encode()
                self._send(200, "application/json; charset=UTF-8", body)

            def _send(self, status: int, content_type: str, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
