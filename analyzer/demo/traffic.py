"""Simulated DocAIche traffic: requests hopping between services, and incidents that break them.

A request is simulated hop by hop in its own time line; each service logs what it saw with the
shared correlation id and span ids. When a hop falls inside an incident window, the hop fails the
way `incidents.yaml` describes and every caller up the chain logs its own error.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from analyzer.demo.output import LineSink
from analyzer.demo.pii import SecretBook, User
from analyzer.model import NS_PER_SECOND

MS = 1_000_000
SECOND = NS_PER_SECOND

WORKSPACES = ("ws-engineering", "ws-support", "ws-research", "ws-legal", "ws-marketing")
CHAT_MODELS = ("gpt-4o", "gpt-4o-mini", "claude-3-5-sonnet", "llama3.1:8b")
EMBEDDING_MODEL = "text-embedding-3-small"
FILES = (
    "q3-report.pdf",
    "onboarding.docx",
    "contract-2026.pdf",
    "handbook.pdf",
    "notes.md",
    "pricing.xlsx",
    "architecture.pdf",
    "faq.txt",
)
ADMIN_ACTIONS = (
    "workspace.update",
    "user.invite",
    "model.switch",
    "workspace.reindex",
    "apikey.rotate",
)
PROMPTS = (
    "Summarise the latest onboarding document for me",
    "What does the Q3 report say about churn?",
    "Draft a reply to the customer about the delayed invoice",
    "List the open questions from the architecture review",
    "Explain the pricing tiers in plain words",
)
PII_PROMPTS = (
    "Please update my contact: email {email}, phone {phone}",
    "My card {card} was charged twice, can you check the refund policy?",
    "Send the summary to {email} and call me on {phone} if anything is unclear",
)
# request type -> share of traffic
REQUEST_MIX = (
    ("chat", 0.45),
    ("search", 0.15),
    ("document_upload", 0.1),
    ("embedding", 0.1),
    ("login", 0.1),
    ("admin_action", 0.07),
    ("health", 0.03),
)
LINES_PER_REQUEST = 6.0
INCIDENT_TRAFFIC_SHARE = 0.4  # average, used to turn a lines/minute rate into requests/minute


@dataclass
class Incident:
    id: str
    kind: str
    spec: dict[str, Any]
    start_ns: int
    end_ns: int
    failed_ids: list[str] = field(default_factory=list)
    error_lines: dict[str, int] = field(default_factory=dict)
    first_error: tuple[int, str] | None = None
    traced: bool = False

    def active(self, ts_ns: int) -> bool:
        return self.start_ns <= ts_ns < self.end_ns

    def note_error(self, ts_ns: int, service: str) -> None:
        self.error_lines[service] = self.error_lines.get(service, 0) + 1
        if self.first_error is None or ts_ns < self.first_error[0]:
            self.first_error = (ts_ns, service)

    def text(self, key: str, **values: str) -> str:
        return str(self.spec[key]).format(**values)


@dataclass
class Conversation:
    conversation_id: str
    user: User
    workspace_id: str
    session_id: str
    model: str
    verbose: bool  # logs prompt and response text (with whatever PII the user typed)
    turns_left: int
    turns: int = 0


@dataclass
class Request:
    """One request's ids and its clock; `at` advances as hops take time."""

    correlation_id: str
    request_type: str
    at: int
    ids: dict[str, str]
    hops: list[str] = field(default_factory=list)
    failed_hop: str | None = None
    slow_hop: str | None = None
    incident: Incident | None = None


class Simulation:
    def __init__(
        self,
        rng: random.Random,
        sink: LineSink,
        secrets: SecretBook,
        incidents: list[Incident],
        start_ns: int,
        end_ns: int,
        rate_per_minute: float,
    ) -> None:
        self.rng = rng
        self.sink = sink
        self.secrets = secrets
        self.incidents = incidents
        self.start_ns = start_ns
        self.end_ns = end_ns
        self.rate = rate_per_minute
        self.conversations: list[Conversation] = []
        self.all_conversations: dict[str, Conversation] = {}
        self.traced: list[dict[str, Any]] = []
        self._traced_kinds: set[str] = set()
        self._pii_prompts = 0
        self._bearer_leaked = False
        self._key_leaked = False

    # ----- ids and helpers -------------------------------------------------------------------

    def _hex(self, bits: int) -> str:
        return f"{self.rng.getrandbits(bits):0{bits // 4}x}"

    def _span(self) -> str:
        return self._hex(32)

    def _ms(self, low: float, high: float) -> int:
        return int(self.rng.uniform(low, high) * MS)

    def incident_at(
        self, hop: str, request_type: str, ts_ns: int, workspace: str | None
    ) -> Incident | None:
        for incident in self.incidents:
            spec = incident.spec
            if spec["failing_hop"] != hop or request_type not in spec["request_types"]:
                continue
            if not incident.active(ts_ns):
                continue
            wanted = spec.get("workspace")
            if wanted and workspace != wanted:
                continue
            return incident
        return None

    def log(
        self,
        req: Request,
        service: str,
        level: str,
        message: str,
        *,
        span: str,
        parent: str | None = None,
        **fields: Any,
    ) -> None:
        self.sink.json_line(
            req.at,
            service,
            level,
            message,
            correlation_id=req.correlation_id,
            **req.ids,
            request_type=req.request_type,
            span_id=span,
            parent_span_id=parent,
            **fields,
        )
        if level in ("error", "fatal") and req.incident is not None:
            req.incident.note_error(req.at, service)

    def fail(
        self,
        req: Request,
        service: str,
        message: str,
        *,
        span: str,
        parent: str | None,
        error_type: str,
        status_code: int,
        started: int,
    ) -> None:
        self.log(
            req,
            service,
            "error",
            message,
            span=span,
            parent=parent,
            success=False,
            error_type=error_type,
            status_code=status_code,
            duration=round((req.at - started) / SECOND, 3),
        )

    # ----- the run ---------------------------------------------------------------------------

    def run(self, progress: Callable[[int, int], None] | None = None) -> None:
        self._redis_startup()
        minutes = max(1, (self.end_ns - self.start_ns) // (60 * SECOND))
        per_minute = self.rate / LINES_PER_REQUEST
        slow_at = self.start_ns + (self.end_ns - self.start_ns) // 20
        slow_done = False
        for minute in range(minutes):
            base = self.start_ns + minute * 60 * SECOND
            count = max(0, round(self.rng.gauss(per_minute, per_minute**0.5)))
            starts = sorted(base + self.rng.randrange(60 * SECOND) for _ in range(count))
            for ts in starts:
                if not slow_done and ts >= slow_at:
                    slow_done = True
                    self.chat(ts, slow_llm=True)
                    self.upload(ts + 7 * SECOND, slow_worker=True)
                self.request(ts)
            self._background(base)
            self.sink.flush(before_ns=base - 5 * 60 * SECOND)
            if progress is not None:
                progress(minute + 1, minutes)

    def request(self, ts: int) -> None:
        roll = self.rng.random()
        kind = REQUEST_MIX[-1][0]
        for name, share in REQUEST_MIX:
            roll -= share
            if roll <= 0:
                kind = name
                break
        active = next((i for i in self.incidents if i.active(ts) and i.spec["request_types"]), None)
        if active is not None and self.rng.random() < INCIDENT_TRAFFIC_SHARE:
            # users keep retrying what is broken, so the affected kinds dominate the window
            kind = self.rng.choice(active.spec["request_types"])
        getattr(self, kind.replace("document_", ""))(ts)

    # ----- background lines ------------------------------------------------------------------

    def _redis_startup(self) -> None:
        t = self.start_ns + self._ms(100, 900)
        for char, message in (
            ("#", "oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo"),
            ("#", "Redis version=7.2.4, bits=64, commit=00000000, modified=0, pid=1, just started"),
            ("*", "monotonic clock: POSIX clock_gettime"),
            ("*", "Running mode=standalone, port=6379."),
            ("#", "Server initialized"),
            ("*", "Ready to accept connections tcp"),
        ):
            self.sink.redis(t, char, message, role="C" if "starting" in message else "M")
            t += self._ms(1, 20)

    def _background(self, minute_start: int) -> None:
        """Lines no request causes: redis snapshots, worker heartbeats, incident noise."""
        redis_incident = next(
            (
                i
                for i in self.incidents
                if i.spec.get("root_format") == "redis"
                and i.start_ns < minute_start + 60 * SECOND
                and i.end_ns > minute_start
            ),
            None,
        )
        minute_index = (minute_start - self.start_ns) // (60 * SECOND)
        if redis_incident is None and minute_index % 5 == 4:
            t = minute_start + self._ms(0, 50_000)
            child = self.rng.randint(20, 9000)
            self.sink.redis(t, "*", "100 changes in 300 seconds. Saving...")
            self.sink.redis(t + self._ms(1, 3), "*", f"Background saving started by pid {child}")
            self.sink.redis(t + self._ms(40, 120), "*", "DB saved on disk", pid=child, role="C")
            self.sink.redis(
                t + self._ms(150, 250), "*", "Background saving terminated with success"
            )
        if minute_index % 2 == 0:
            t = minute_start + self._ms(0, 59_000)
            self.sink.json_line(
                t, "worker", "debug", "heartbeat: 0 jobs in flight", request_type="heartbeat"
            )
        for incident in self.incidents:
            spec = incident.spec
            if incident.start_ns >= minute_start + 60 * SECOND or incident.end_ns <= minute_start:
                continue
            if minute_start <= incident.start_ns:
                self._incident_begins(incident)
            if minute_start < incident.end_ns <= minute_start + 60 * SECOND:
                self._incident_ends(incident)
            background = spec.get("background")
            if background:
                t = max(minute_start, incident.start_ns) + self._ms(500, 3000)
                while t < min(minute_start + 60 * SECOND, incident.end_ns):
                    self.sink.json_line(
                        t,
                        background["service"],
                        "error",
                        background["message"],
                        error_type=background["error_type"],
                        success=False,
                        request_type="job_poll",
                    )
                    incident.note_error(t, background["service"])
                    t += background["every_seconds"] * SECOND + self._ms(0, 900)
            if spec.get("attacker"):
                self._attack(incident, minute_start)

    def _incident_begins(self, incident: Incident) -> None:
        spec = incident.spec
        t = incident.start_ns
        root = spec["root_cause_service"]
        for level, message in spec.get("root_lines", []):
            if spec.get("root_format") == "redis":
                self.sink.redis(t, level, message)
                if level == "#":
                    incident.note_error(t, root)
            else:
                self.sink.json_line(
                    t,
                    root,
                    level,
                    message,
                    error_type=message.split(":")[0],
                    success=False,
                    request_type="internal",
                )
                incident.note_error(t, root)
            t += self._ms(1, 40)

    def _incident_ends(self, incident: Incident) -> None:
        t = incident.end_ns + self._ms(100, 2000)
        for level, message in incident.spec.get("recovery_lines", []):
            self.sink.redis(t, level, message, role="C" if "starting" in message else "M")
            t += self._ms(5, 300)

    def _attack(self, incident: Incident, minute_start: int) -> None:
        spec = incident.spec["attacker"]
        ip = self.secrets.use("ip", self.secrets.attacker_ip)
        begin = max(minute_start, incident.start_ns)
        end = min(minute_start + 60 * SECOND, incident.end_ns)
        attempts = sorted(
            begin + self.rng.randrange(max(1, end - begin))
            for _ in range(spec["attempts_per_minute"])
        )
        for ts in attempts:
            victim = self.rng.choice(self.secrets.users)
            email = self.secrets.use("email", victim.email)
            req = Request(f"req-{self._hex(48)}", "login", ts, {}, incident=incident)
            req.hops = ["admin-ui", "api"]
            ui_span, api_span = self._span(), self._span()
            self.log(
                req,
                "admin-ui",
                "info",
                f"login attempt for {email} from {ip}",
                span=ui_span,
                client_ip=ip,
            )
            req.at += self._ms(2, 6)
            started = req.at
            req.at += self._ms(3, 8)
            self.fail(
                req,
                "api",
                spec["caller_message"].format(ip=ip),
                span=api_span,
                parent=ui_span,
                error_type="Unauthorized",
                status_code=401,
                started=started,
            )
            if len(incident.failed_ids) >= 10:
                req.at += self._ms(1, 2)
                self.fail(
                    req,
                    "api",
                    spec["lockout_message"].format(ip=ip),
                    span=api_span,
                    parent=ui_span,
                    error_type="RateLimited",
                    status_code=429,
                    started=started,
                )
            req.at += self._ms(1, 3)
            self.fail(
                req,
                "admin-ui",
                spec["root_message"].format(user=email, ip=ip),
                span=ui_span,
                parent=None,
                error_type="InvalidCredentials",
                status_code=401,
                started=ts,
            )
            incident.failed_ids.append(req.correlation_id)
            req.failed_hop = "admin-ui"
            self._trace(req, ts, kind=incident.kind)

    # ----- hop failures ----------------------------------------------------------------------

    def _fail_hop(
        self,
        req: Request,
        incident: Incident,
        hop: str,
        hop_span: str,
        caller: str,
        caller_span: str,
        caller_parent: str | None,
        started: int,
        values: dict[str, str],
    ) -> None:
        """The hop fails: the hop logs the signature (when it does per request), its caller
        logs its own error once per attempt."""
        spec = incident.spec
        call = spec["caller"]
        req.incident = incident
        req.failed_hop = hop
        attempts = 1 + int(call.get("retries", 0))
        call_start = req.at
        root_delay = int(spec.get("root_delay_seconds", 0) * SECOND)
        caller_delay = int(call.get("delay_seconds", 0) * SECOND)
        for attempt in range(attempts):
            caller_at = call_start + caller_delay + self._ms(1, 40)
            if spec.get("root_per_request"):
                root_at = call_start + root_delay + self._ms(3, 30)
                req.at = root_at
                self.fail(
                    req,
                    hop,
                    incident.text("root_message", **values),
                    span=hop_span,
                    parent=caller_span,
                    error_type=spec["root_error_type"],
                    status_code=500,
                    started=call_start,
                )
                if root_delay <= caller_delay:
                    # the caller hears about the failure only after the hop logged it
                    caller_at = max(caller_at, root_at + self._ms(1, 5))
            req.at = caller_at
            self.fail(
                req,
                caller,
                call["message"].format(**values),
                span=caller_span,
                parent=caller_parent,
                error_type=call["error_type"],
                status_code=call["status_code"],
                started=started,
            )
            if attempt + 1 < attempts:
                req.at += self._ms(100, 400)
                self.log(
                    req,
                    caller,
                    "warn",
                    f"retrying {hop} (attempt {attempt + 2}/{attempts})",
                    span=caller_span,
                    parent=caller_parent,
                )
                hop_span = self._span()
                call_start = req.at
        req.at += self._ms(1, 4)
        self.fail(
            req,
            caller,
            f"{req.request_type} request failed with status {call['status_code']}",
            span=caller_span,
            parent=caller_parent,
            error_type="RequestFailed",
            status_code=call["status_code"],
            started=started,
        )
        incident.failed_ids.append(req.correlation_id)

    def _entry_failed(
        self, req: Request, entry: str, entry_span: str, started: int, status: int
    ) -> None:
        req.at += self._ms(2, 10)
        self.fail(
            req,
            entry,
            f"request failed: HTTP {status} from api",
            span=entry_span,
            parent=None,
            error_type="HTTPError",
            status_code=status,
            started=started,
        )

    def _trace(self, req: Request, started: int, *, kind: str) -> None:
        """Keep a handful of requests, with their known hops, as traced ground truth."""
        if kind in self._traced_kinds:
            return
        self._traced_kinds.add(kind)
        self.traced.append(
            {
                "correlation_id": req.correlation_id,
                "request_type": req.request_type,
                "hops": list(req.hops),
                "slow_hop": req.slow_hop,
                "failed_hop": req.failed_hop,
                "total_duration_ms": round((req.at - started) / MS),
                "incident": req.incident.id if req.incident else None,
            }
        )

    def _redis_call(
        self,
        req: Request,
        caller: str,
        caller_span: str,
        caller_parent: str | None,
        started: int,
        command: str,
        request_type: str,
        workspace: str | None,
    ) -> bool:
        """A cache or queue call; False when redis refused it (the caller already logged why)."""
        req.hops.append("redis")
        req.at += self._ms(1, 4)
        self.log(
            req,
            caller,
            "debug",
            f"request to redis:6379 {command}",
            span=caller_span,
            parent=caller_parent,
        )
        incident = self.incident_at("redis", request_type, req.at, workspace)
        if incident is None:
            req.at += self._ms(0.3, 3)
            return True
        self._fail_hop(req, incident, "redis", "", caller, caller_span, caller_parent, started, {})
        return False

    # ----- request kinds ---------------------------------------------------------------------

    def _conversation(self, ts: int) -> Conversation:
        token_incident = next(
            (i for i in self.incidents if i.spec.get("workspace") and i.active(ts)), None
        )
        wanted = (
            token_incident.spec["workspace"] if token_incident and self.rng.random() < 0.6 else None
        )
        pool = [c for c in self.conversations if wanted is None or c.workspace_id == wanted]
        if pool and self.rng.random() < 0.7:
            conv = self.rng.choice(pool)
        else:
            user = self.rng.choice(self.secrets.users)
            conv = Conversation(
                conversation_id=f"conv-{self._hex(32)}",
                user=user,
                workspace_id=wanted or self.rng.choice(WORKSPACES),
                session_id=f"sess-{self._hex(32)}",
                model=self.rng.choice(CHAT_MODELS),
                verbose=self.rng.random() < 0.2,
                turns_left=self.rng.randint(2, 8),
            )
            self.conversations.append(conv)
            self.all_conversations[conv.conversation_id] = conv
        conv.turns += 1
        conv.turns_left -= 1
        if conv.turns_left <= 0:
            self.conversations.remove(conv)
        return conv

    def _prompt(self, conv: Conversation) -> tuple[str, list[tuple[str, str]]]:
        """The user's text, and the secrets in it (recorded only once the text is logged)."""
        if conv.verbose and (self._pii_prompts < len(PII_PROMPTS) or self.rng.random() < 0.5):
            # the first verbose turns leak every kind of PII at least once
            template = (
                PII_PROMPTS[self._pii_prompts]
                if self._pii_prompts < len(PII_PROMPTS)
                else self.rng.choice(PII_PROMPTS)
            )
            self._pii_prompts += 1
            values = {"email": conv.user.email, "phone": conv.user.phone, "card": self.secrets.card}
            leaked = [(k, v) for k, v in values.items() if "{" + k + "}" in template]
            return template.format(**values), leaked
        return self.rng.choice(PROMPTS), []

    def chat(self, ts: int, *, slow_llm: bool = False) -> None:
        conv = self._conversation(ts)
        if conv.turns > 1 and self.rng.random() < 0.15:
            conv.model = self.rng.choice(CHAT_MODELS)  # the user switched models mid-conversation
        ids = {
            "conversation_id": conv.conversation_id,
            "session_id": conv.session_id,
            "workspace_id": conv.workspace_id,
            "user_id": conv.user.user_id,
        }
        req = Request(f"req-{self._hex(48)}", "chat", ts, ids, hops=["browser"])
        ws = conv.workspace_id
        b_span, a_span, l_span = self._span(), self._span(), self._span()
        self.log(req, "browser", "info", f"POST /api/v1/workspace/{ws}/chat", span=b_span)
        req.at += self._ms(2, 8)
        req.hops.append("api")
        api_start = req.at
        self.log(req, "api", "info", "chat request received", span=a_span, parent=b_span)
        prompt, leaked = self._prompt(conv)
        prompt_hash = hashlib.sha256(prompt.encode()).hexdigest()[:16]
        if not self._redis_call(
            req, "api", a_span, b_span, api_start, f"GET cache:chat:{prompt_hash}", "chat", ws
        ):
            self._entry_failed(req, "browser", b_span, ts, 503)
            self._finish_failed(req, ts)
            return
        req.at += self._ms(1, 3)
        req.hops.append("anythingllm")
        self.log(
            req,
            "api",
            "info",
            f"calling anythingllm /api/v1/workspace/{ws}/stream-chat",
            span=a_span,
            parent=b_span,
            model=conv.model,
        )
        incident = self.incident_at("anythingllm", "chat", req.at, ws)
        if incident is not None:
            self._fail_hop(
                req,
                incident,
                "anythingllm",
                l_span,
                "api",
                a_span,
                b_span,
                api_start,
                {"workspace": ws},
            )
            self._entry_failed(req, "browser", b_span, ts, incident.spec["caller"]["status_code"])
            self._finish_failed(req, ts)
            return
        llm_start = req.at
        prompt_tokens = self.rng.randint(200, 3000)
        completion_tokens = self.rng.randint(50, 900)
        seconds = 9.5 + self.rng.uniform(0, 1) if slow_llm else self.rng.uniform(0.6, 3.2)
        req.at += int(seconds * SECOND)
        llm_fields: dict[str, Any] = {
            "model": conv.model,
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "tokens_used": prompt_tokens + completion_tokens,
            "prompt_hash": prompt_hash,
        }
        if conv.verbose:
            for kind, value in leaked:
                self.secrets.use(kind, value)
            llm_fields["prompt"] = prompt
            llm_fields["response"] = (
                "Sure. " + self.rng.choice(PROMPTS).lower() + " is covered below."
            )
        self.log(
            req,
            "anythingllm",
            "info",
            f"chat completion finished model={conv.model}",
            span=l_span,
            parent=a_span,
            duration=round((req.at - llm_start) / SECOND, 3),
            success=True,
            **llm_fields,
        )
        if slow_llm:
            req.slow_hop = "anythingllm"
        self._answer_through_api(req, "chat completed", a_span, b_span, api_start, ts)
        self._trace(req, ts, kind="slow_chat" if slow_llm else "chat")

    def _answer_through_api(
        self, req: Request, message: str, a_span: str, b_span: str, api_start: int, ts: int
    ) -> None:
        """The healthy return path: api completes, then the browser gets its 200."""
        req.at += self._ms(2, 10)
        self.log(
            req,
            "api",
            "info",
            message,
            span=a_span,
            parent=b_span,
            status_code=200,
            success=True,
            duration=round((req.at - api_start) / SECOND, 3),
        )
        req.at += self._ms(2, 10)
        self.log(
            req,
            "browser",
            "info",
            "response 200 from api",
            span=b_span,
            status_code=200,
            success=True,
            duration=round((req.at - ts) / SECOND, 3),
        )

    def _finish_failed(self, req: Request, started: int) -> None:
        if req.incident is not None and not req.incident.traced:
            req.incident.traced = True
            self._trace(req, started, kind=req.incident.kind)

    def search(self, ts: int) -> None:
        user = self.rng.choice(self.secrets.users)
        ws = self.rng.choice(WORKSPACES)
        ids = {"session_id": f"sess-{self._hex(32)}", "workspace_id": ws, "user_id": user.user_id}
        req = Request(f"req-{self._hex(48)}", "search", ts, ids, hops=["api"])
        a_span, l_span = self._span(), self._span()
        self.log(req, "api", "info", f"GET /api/v1/workspace/{ws}/search", span=a_span)
        if not self._redis_call(
            req, "api", a_span, None, ts, f"GET cache:search:{self._hex(32)}", "search", ws
        ):
            self._finish_failed(req, ts)
            return
        req.hops.append("anythingllm")
        req.at += self._ms(1, 3)
        self.log(req, "api", "info", "calling anythingllm vector search", span=a_span)
        incident = self.incident_at("anythingllm", "search", req.at, ws)
        if incident is not None:
            self._fail_hop(
                req, incident, "anythingllm", l_span, "api", a_span, None, ts, {"workspace": ws}
            )
            self._finish_failed(req, ts)
            return
        start = req.at
        req.at += self._ms(40, 400)
        tokens = self.rng.randint(8, 60)
        self.log(
            req,
            "anythingllm",
            "info",
            f"vector search returned {self.rng.randint(0, 12)} chunks",
            span=l_span,
            parent=a_span,
            model=EMBEDDING_MODEL,
            tokens_used=tokens,
            duration=round((req.at - start) / SECOND, 3),
            success=True,
        )
        req.at += self._ms(1, 5)
        self.log(
            req,
            "api",
            "info",
            "search completed",
            span=a_span,
            status_code=200,
            success=True,
            duration=round((req.at - ts) / SECOND, 3),
        )
        self._trace(req, ts, kind="search")

    def upload(self, ts: int, *, slow_worker: bool = False) -> None:
        user = self.rng.choice(self.secrets.users)
        ws = self.rng.choice(WORKSPACES)
        name = self.rng.choice(FILES)
        ids = {"session_id": f"sess-{self._hex(32)}", "workspace_id": ws, "user_id": user.user_id}
        req = Request(f"req-{self._hex(48)}", "document_upload", ts, ids, hops=["browser", "api"])
        b_span, a_span, w_span, l_span = (self._span() for _ in range(4))
        self.log(req, "browser", "info", f"POST /api/v1/workspace/{ws}/upload {name}", span=b_span)
        req.at += self._ms(5, 30)
        api_start = req.at
        self.log(
            req,
            "api",
            "info",
            f"document upload received: {name}",
            span=a_span,
            parent=b_span,
            file_name=name,
            size_bytes=self.rng.randint(20_000, 9_000_000),
        )
        if not self._redis_call(
            req, "api", a_span, b_span, api_start, "LPUSH jobs:documents", "document_upload", ws
        ):
            self._entry_failed(req, "browser", b_span, ts, 503)
            self._finish_failed(req, ts)
            return
        req.hops.append("worker")
        req.at += self._ms(1, 5)
        self.log(req, "api", "info", "calling worker to parse document", span=a_span, parent=b_span)
        incident = self.incident_at("worker", "document_upload", req.at, ws)
        if incident is not None:
            self._fail_hop(
                req,
                incident,
                "worker",
                w_span,
                "api",
                a_span,
                b_span,
                api_start,
                {"file": name, "workspace": ws},
            )
            self._entry_failed(req, "browser", b_span, ts, incident.spec["caller"]["status_code"])
            self._finish_failed(req, ts)
            return
        worker_start = req.at
        self.log(req, "worker", "info", f"parsing document {name}", span=w_span, parent=a_span)
        req.at += int(
            (self.rng.uniform(6, 8) if slow_worker else self.rng.uniform(0.3, 2.5)) * SECOND
        )
        chunks = self.rng.randint(4, 60)
        self.log(
            req, "worker", "info", f"document parsed: {chunks} chunks", span=w_span, parent=a_span
        )
        req.hops.append("anythingllm")
        req.at += self._ms(1, 4)
        incident = self.incident_at("anythingllm", "document_upload", req.at, ws)
        if incident is not None:
            self._fail_hop(
                req,
                incident,
                "anythingllm",
                l_span,
                "worker",
                w_span,
                a_span,
                worker_start,
                {"workspace": ws, "file": name},
            )
            req.at += self._ms(2, 8)
            self.fail(
                req,
                "api",
                "document upload failed: worker reported an error",
                span=a_span,
                parent=b_span,
                error_type="UpstreamError",
                status_code=502,
                started=api_start,
            )
            self._entry_failed(req, "browser", b_span, ts, 502)
            self._finish_failed(req, ts)
            return
        embed_start = req.at
        req.at += self._ms(80, 900)
        self.log(
            req,
            "anythingllm",
            "info",
            f"embedded {chunks} chunks",
            span=l_span,
            parent=w_span,
            model=EMBEDDING_MODEL,
            tokens_used=chunks * self.rng.randint(200, 400),
            duration=round((req.at - embed_start) / SECOND, 3),
            success=True,
        )
        req.at += self._ms(2, 10)
        self.log(
            req,
            "worker",
            "info",
            f"document indexed: {name}",
            span=w_span,
            parent=a_span,
            success=True,
            duration=round((req.at - worker_start) / SECOND, 3),
        )
        if slow_worker:
            req.slow_hop = "worker"
        self._answer_through_api(req, "document upload completed", a_span, b_span, api_start, ts)
        self._trace(req, ts, kind="slow_upload" if slow_worker else "upload")

    def embedding(self, ts: int) -> None:
        ws = self.rng.choice(WORKSPACES)
        req = Request(
            f"req-{self._hex(48)}", "embedding", ts, {"workspace_id": ws}, hops=["worker"]
        )
        w_span, l_span = self._span(), self._span()
        self.log(req, "worker", "info", f"processing job embed-workspace {ws}", span=w_span)
        if not self._redis_call(
            req, "worker", w_span, None, ts, "BRPOP jobs:embeddings", "embedding", ws
        ):
            self._finish_failed(req, ts)
            return
        req.hops.append("anythingllm")
        req.at += self._ms(1, 3)
        incident = self.incident_at("anythingllm", "embedding", req.at, ws)
        if incident is not None:
            self._fail_hop(
                req, incident, "anythingllm", l_span, "worker", w_span, None, ts, {"workspace": ws}
            )
            self._finish_failed(req, ts)
            return
        start = req.at
        req.at += self._ms(50, 600)
        self.log(
            req,
            "anythingllm",
            "info",
            "embedding batch stored",
            span=l_span,
            parent=w_span,
            model=EMBEDDING_MODEL,
            tokens_used=self.rng.randint(500, 6000),
            duration=round((req.at - start) / SECOND, 3),
            success=True,
        )
        req.at += self._ms(1, 5)
        self.log(
            req,
            "worker",
            "info",
            "job done: embed-workspace",
            span=w_span,
            success=True,
            duration=round((req.at - ts) / SECOND, 3),
        )

    def login(self, ts: int) -> None:
        user = self.rng.choice(self.secrets.users)
        ids = {"session_id": f"sess-{self._hex(32)}", "user_id": user.user_id}
        req = Request(f"req-{self._hex(48)}", "login", ts, ids, hops=["admin-ui", "api"])
        u_span, a_span = self._span(), self._span()
        email = self.secrets.use("email", user.email)
        ip = self.secrets.use("ip", user.ip)
        self.log(
            req,
            "admin-ui",
            "info",
            f"login attempt for {email} from {ip}",
            span=u_span,
            client_ip=ip,
        )
        req.at += self._ms(2, 6)
        api_start = req.at
        req.at += self._ms(20, 120)
        self.log(
            req,
            "api",
            "info",
            "POST /api/v1/auth/login 200",
            span=a_span,
            parent=u_span,
            status_code=200,
            success=True,
            duration=round((req.at - api_start) / SECOND, 3),
        )
        req.at += self._ms(1, 4)
        self.log(
            req,
            "admin-ui",
            "info",
            f"user login succeeded for {email}",
            span=u_span,
            audit=True,
            success=True,
            duration=round((req.at - ts) / SECOND, 3),
        )

    def admin_action(self, ts: int) -> None:
        user = self.rng.choice(self.secrets.users[:4])  # a few admins
        ws = self.rng.choice(WORKSPACES)
        action = self.rng.choice(ADMIN_ACTIONS)
        ids = {"session_id": f"sess-{self._hex(32)}", "workspace_id": ws, "user_id": user.user_id}
        req = Request(f"req-{self._hex(48)}", "admin_action", ts, ids, hops=["admin-ui", "api"])
        u_span, a_span, w_span = self._span(), self._span(), self._span()
        self.log(
            req,
            "admin-ui",
            "info",
            f"admin action {action} on {ws} by {user.user_id}",
            span=u_span,
            audit=True,
            action=action,
        )
        req.at += self._ms(2, 6)
        api_start = req.at
        if action == "apikey.rotate" and (not self._key_leaked or self.rng.random() < 0.5):
            self._key_leaked = True
            key = self.secrets.use("api_key", self.secrets.api_key)
            self.log(
                req,
                "api",
                "warn",
                f"api key rotated; old key {key} still used by a connector",
                span=a_span,
                parent=u_span,
            )
        if not self._bearer_leaked or self.rng.random() < 0.1:
            self._bearer_leaked = True
            token = self.secrets.use("bearer", self.secrets.bearer)
            self.log(
                req,
                "api",
                "debug",
                f"forwarding Authorization: Bearer {token}",
                span=a_span,
                parent=u_span,
            )
        req.hops.append("worker")
        req.at += self._ms(1, 5)
        self.log(
            req, "api", "info", f"calling worker to schedule {action}", span=a_span, parent=u_span
        )
        incident = self.incident_at("worker", "admin_action", req.at, ws)
        if incident is not None:
            self._fail_hop(
                req, incident, "worker", w_span, "api", a_span, u_span, api_start, {"workspace": ws}
            )
            req.at += self._ms(2, 8)
            self.fail(
                req,
                "admin-ui",
                f"admin action {action} failed: HTTP 503 from api",
                span=u_span,
                parent=None,
                error_type="HTTPError",
                status_code=503,
                started=ts,
            )
            self._finish_failed(req, ts)
            return
        req.at += self._ms(5, 40)
        self.log(
            req,
            "worker",
            "info",
            f"job scheduled: {action}",
            span=w_span,
            parent=a_span,
            success=True,
        )
        req.at += self._ms(1, 5)
        self.log(
            req,
            "api",
            "info",
            f"POST /api/v1/admin/{action} 200",
            span=a_span,
            parent=u_span,
            status_code=200,
            success=True,
            duration=round((req.at - api_start) / SECOND, 3),
        )
        req.at += self._ms(1, 5)
        self.log(
            req,
            "admin-ui",
            "info",
            f"audit: {action} completed on {ws}",
            span=u_span,
            audit=True,
            success=True,
            duration=round((req.at - ts) / SECOND, 3),
        )

    def health(self, ts: int) -> None:
        self.sink.json_line(
            ts,
            "api",
            "debug",
            "GET /healthz 200",
            request_type="health",
            status_code=200,
            duration=round(self.rng.uniform(0.001, 0.004), 4),
        )
