"""Chaos soak: two ``serve`` replicas on PostgreSQL under faults and ``kill -9``, then checked
against one fresh full sync.

    python -m bench.chaos [--edit-s 90] [--seed 1] [--out bench/out/chaos.json]

1. A sandbox (a small generated program dated today) whose signed webhooks go to one URL: a
   round-robin proxy in this process in front of two ``partner-sync serve`` child processes
   sharing a fresh PostgreSQL database (unique name, dropped at the end). ``init`` and a full
   sync run first, without faults.
2. For ``--edit-s`` seconds: a stream of user edits in the sandbox (registration requests on
   companies and contacts, deal closes, merges, archives) producing real webhooks; the sandbox
   injects 429s with and without Retry-After, 5xx bursts, slow answers and dropped connections
   on the API the replicas call; a random replica is killed with SIGKILL at random moments
   and started again.
3. Faults off, replicas up: wait (at most ``--converge-s``) until every webhook delivery ended
   and the inbox holds nothing pending or claimed. Then check:
   - outputs: a dry-run full sync on a fresh store plans no change to the portal;
   - the ledger and the decisions equal those of that fresh store after its full sync;
   - no ledger row twice;
   - no event lost: every event a replica acknowledged is in the inbox, done or dead-lettered
     with a reason.
Figures and findings go to ``--out`` (JSON) and stdout; the exit code is 0 only when every
check held.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr
from sqlalchemy import create_engine, select

from bench.chaos_parts import (
    Editor,
    Proxy,
    Replica,
    create_database,
    drop_database,
    event_identity,
)
from cli.runtime import build_runtime
from config.contract import contract_for_prefix
from config.settings import Settings
from sandbox.config import RateLimitConfig, SandboxConfig, WebhookConfig
from sandbox.gen.profiles import Counts
from sandbox.generator import DIRECT_SALES_OWNER_IDS, generate_custom
from sandbox.server import RunningSandbox, serve_in_thread
from sandbox.state import SandboxState
from sync.store import Store
from sync.store.schema import decisions, inbox, ledger

TOKEN = "chaos-token"
APP_ID = 1000001
COUNTS = Counts(2_000, 600, 300, 300, 12)
STEADY_FAULTS = [  # (kind, rate) on the CRM API the replicas call
    ("429", 0.04), ("429_no_retry_after", 0.04), ("slow", 0.03), ("drop", 0.03),
]
BURST = ("503", 6)  # every burst: the next 6 API calls answer 503


def _settings_values(sandbox: RunningSandbox, store_url: str, secret: str, proxy_url: str,
                     terms: Path) -> dict[str, Any]:
    return {
        "hubspot": {"access_token": SecretStr(TOKEN), "base_url": sandbox.url,
                    "max_retry_wait_s": 20},
        "store": {"url": store_url},
        "webhooks": {"client_secret": SecretStr(secret), "public_url": proxy_url,
                     "app_id": str(APP_ID)},
        "admin": {"token": SecretStr(secrets.token_urlsafe(16))},
        "scheduler": {"enabled": False},
        "terms_file": terms, "log_level": "WARNING",
    }


def _env(values: dict[str, Any]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARTNER_SYNC_")}
    for section, items in values.items():
        if not isinstance(items, dict):
            env[f"PARTNER_SYNC_{section.upper()}"] = str(items)
            continue
        for key, value in items.items():
            raw = value.get_secret_value() if isinstance(value, SecretStr) else value
            env[f"PARTNER_SYNC_{section.upper()}__{key.upper()}"] = str(raw)
    return env


def _full_sync(values: dict[str, Any], store_url: str, *, dry_run: bool = False) -> Any:
    runtime = build_runtime(Settings(**{**values, "store": {"url": store_url}}))
    try:
        return runtime.engine.full_sync(dry_run=dry_run, trigger="chaos")
    finally:
        runtime.close()


class Faults:
    """Steady fault rules plus 5xx bursts on the sandbox; counts every firing."""

    def __init__(self, sandbox_url: str, rng: random.Random) -> None:
        self.url = sandbox_url + "/_sandbox/faults"
        self.rng = rng
        self.fired: dict[str, int] = {}

    def _collect(self) -> None:
        for rule in httpx.get(self.url).json()["rules"]:
            self.fired[rule["kind"]] = self.fired.get(rule["kind"], 0) + rule["fired"]

    def arm(self, burst: bool) -> None:
        self._collect()
        rules = [{"kind": k, "rate": r, "path_regex": "^/crm/", "retry_after_s": 1,
                  "slow_s": 2.0} for k, r in STEADY_FAULTS]
        # Each PUT reseeds the sandbox's fault RNG: a new order of the rules makes the draws
        # after a burst differ from those after the previous one.
        self.rng.shuffle(rules)
        if burst:
            rules.insert(0, {"kind": BURST[0], "count": BURST[1], "path_regex": "^/crm/"})
        httpx.put(self.url, json=rules).raise_for_status()

    def off(self) -> None:
        self._collect()
        httpx.delete(self.url).raise_for_status()


def _chaos(editor: Editor, replicas: list[Replica], faults: Faults, edit_s: float,
           rng: random.Random) -> dict[str, Any]:
    kills: list[dict[str, Any]] = []
    stop = threading.Event()

    def killer() -> None:
        while not stop.wait(rng.uniform(8, 22)):
            victim = rng.choice(replicas)
            victim.kill9()
            kills.append({"replica": victim.name, "at_s": round(time.monotonic() - t0, 1)})
            time.sleep(rng.uniform(0.5, 3))
            victim.start()
            victim.wait_ready()

    t0 = time.monotonic()
    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    next_burst = t0 + rng.uniform(5, 15)
    while time.monotonic() - t0 < edit_s:
        editor.edit()
        if time.monotonic() >= next_burst:
            faults.arm(burst=True)
            next_burst = time.monotonic() + rng.uniform(10, 20)
        time.sleep(rng.uniform(0.2, 0.9))
    stop.set()
    thread.join(120)
    return {"kills": kills}


def _settled(sandbox: RunningSandbox, store_url: str) -> bool:
    dispatcher = sandbox.app.state.webhooks
    if any(d.outcome == "pending" for d in list(dispatcher.deliveries)):
        return False
    engine = create_engine(store_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(inbox.c.status).where(
                inbox.c.status.in_(("pending", "claimed")))).all()
    finally:
        engine.dispose()
    return not rows


def _table(store_url: str, table: Any, skip: tuple[str, ...]) -> set[tuple[Any, ...]]:
    engine = create_engine(store_url)
    try:
        with engine.connect() as conn:
            cols = [c for c in table.c if c.name not in skip]
            return {tuple(row) for row in conn.execute(select(*cols)).all()}
    finally:
        engine.dispose()


def _inbox(store_url: str) -> list[tuple[Any, ...]]:
    engine = create_engine(store_url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(
                select(inbox.c.payload, inbox.c.status, inbox.c.last_error)).all()]
    finally:
        engine.dispose()


def _mirror_vs_portal(state: SandboxState, store_url: str,
                     keys: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """For records whose outputs differ: what the soak's mirror holds against the portal."""
    store = Store.from_url(store_url)
    out: list[dict[str, Any]] = []
    try:
        for object_type, object_id in keys:
            row = store.get_records(object_type, [object_id]).get(object_id)
            rec = state.types[object_type].records.get(int(object_id))
            portal: dict[str, Any] = {"archived": rec is None or rec.archived_ms is not None}
            mirror: dict[str, Any] = {"present": row is not None}
            for other in ("companies", "contacts", "deals", "subscriptions"):
                if other == object_type:
                    continue
                if rec is not None:
                    portal[other] = sorted(str(i) for i, _ in state.linked(object_type, rec.id,
                                                                          other))
                if row is not None:
                    mirror[other] = sorted(row.associations.get(other, []))
            if rec is not None and row is not None:
                names = set(row.properties)
                store_type = state.types[object_type]
                portal["differing_inputs"] = {
                    n: (row.properties.get(n), store_type.raw(rec, n)) for n in sorted(names)
                    if n in store_type.props and row.properties.get(n) != store_type.raw(rec, n)}
            out.append({"record": f"{object_type}/{object_id}", "mirror": mirror,
                        "portal": portal})
    finally:
        store.close()
    return out


def _ledger_duplicates(store_url: str) -> int:
    rows = _table(store_url, ledger, ())
    keys = [(r[0], r[1], r[4]) for r in rows]  # deal, subscription, month_start
    return len(keys) - len(set(keys))


def _archived(state: SandboxState, object_type: str, object_id: str) -> bool:
    rec = state.types[object_type].records.get(int(object_id))
    return rec is None or rec.archived_ms is not None


_KIND_TYPES = {"company": "companies", "contact": "contacts", "deal": "deals"}


def _verify(sandbox: RunningSandbox, proxy: Proxy, values: dict[str, Any], store_url: str,
            tmp: Path) -> dict[str, Any]:
    fresh = f"sqlite:///{tmp / 'fresh.db'}"
    planned = _full_sync(values, fresh, dry_run=True)
    _full_sync(values, fresh)
    ledger_chaos = _table(store_url, ledger, ("updated_at",))
    ledger_fresh = _table(fresh, ledger, ("updated_at",))
    decided_chaos = _table(store_url, decisions, ("saved_at",))
    decided_fresh = _table(fresh, decisions, ("saved_at",))
    rows = _inbox(store_url)
    by_identity = {event_identity(p): (s, e) for p, s, e in rows}
    lost = [i for i in proxy.acknowledged if i not in by_identity
            or by_identity[i][0] not in ("done", "dead")]
    dead_without_reason = [i for i, (s, e) in by_identity.items() if s == "dead" and not e]
    statuses: dict[str, int] = {}
    for _, status, _ in rows:
        statuses[status] = statuses.get(status, 0) + 1
    return {
        "outputs_differing": len(planned.patches),
        "outputs_differing_sample": [
            {"record": f"{p.object_type}/{p.object_id}", "properties": dict(p.properties)}
            for p in planned.patches[:8]],
        "outputs_differing_mirror_vs_portal": _mirror_vs_portal(
            sandbox.state, store_url,
            [(p.object_type, p.object_id) for p in planned.patches[:4]]),
        "ledger_rows": len(ledger_chaos), "ledger_only_chaos": len(ledger_chaos - ledger_fresh),
        "ledger_only_fresh": len(ledger_fresh - ledger_chaos),
        "ledger_only_chaos_of_archived_deals": sum(
            _archived(sandbox.state, "deals", row[0]) for row in ledger_chaos - ledger_fresh),
        "ledger_only_chaos_sample": sorted(map(str, ledger_chaos - ledger_fresh))[:5],
        "ledger_only_fresh_sample": sorted(map(str, ledger_fresh - ledger_chaos))[:5],
        "ledger_duplicates": _ledger_duplicates(store_url),
        "decisions": len(decided_chaos),
        "decisions_only_chaos": len(decided_chaos - decided_fresh),
        "decisions_only_fresh": len(decided_fresh - decided_chaos),
        "decisions_only_chaos_of_archived_records": sum(
            _archived(sandbox.state, _KIND_TYPES.get(row[0], "companies"), row[1])
            for row in decided_chaos - decided_fresh),
        "decisions_only_chaos_sample": sorted(map(str, decided_chaos - decided_fresh))[:5],
        "decisions_only_fresh_sample": sorted(map(str, decided_fresh - decided_chaos))[:5],
        "events_acknowledged": len(proxy.acknowledged), "inbox": statuses,
        "events_lost": len(lost), "events_lost_sample": [
            {"event": str(i), "inbox_status": by_identity.get(i, ("absent",))[0]}
            for i in lost[:5]],
        "dead_without_reason": len(dead_without_reason),
        "dead_reasons": sorted({str(e)[:120] for _, s, e in rows if s == "dead"})[:5],
    }


def run(edit_s: float, converge_s: float, seed: int, tmp: Path) -> dict[str, Any]:
    rng = random.Random(seed)
    load_before = os.getloadavg()
    today = datetime.now(UTC).date()
    secret = secrets.token_urlsafe(24)
    store_url = create_database()
    terms = tmp / "terms.toml"
    owners = ", ".join(f'"{o}"' for o in DIRECT_SALES_OWNER_IDS)
    terms.write_text(f"[deals]\ndirect_sales_owner_ids = [{owners}]\n", encoding="utf-8")
    replicas: list[Replica] = []
    proxy = Proxy([])
    state = SandboxState()
    state.bulk_load(generate_custom(COUNTS, seed, today=today))
    config = SandboxConfig(
        token=TOKEN, rate_limits=RateLimitConfig(enabled=True, per_10s=190),
        webhooks=WebhookConfig(url=proxy.url + "/webhooks/hubspot", client_secret=secret,
                               app_id=APP_ID, retry_base_s=0.5, retry_max_s=8,
                               max_attempts=12, batch_window_s=0.05))
    sandbox = serve_in_thread(config, state)
    try:
        values = _settings_values(sandbox, store_url, secret, proxy.url, terms)
        runtime = build_runtime(Settings(**values))  # migrates the PostgreSQL store
        replicas = [Replica(f"replica{i}", _env(values), tmp) for i in range(2)]
        proxy.backends = [r.port for r in replicas]
        proxy.start()
        for replica in replicas:
            replica.start()
        for replica in replicas:
            replica.wait_ready()
        try:  # the starting point, without faults (its own writes come back as echoes)
            runtime.engine.init_portal()
            runtime.engine.full_sync(trigger="chaos")
        finally:
            runtime.close()
        faults = Faults(sandbox.url, rng)
        faults.arm(burst=False)
        editor = Editor(state, contract_for_prefix(), today, rng)
        started = time.monotonic()
        chaos = _chaos(editor, replicas, faults, edit_s, rng)
        faults.off()
        for replica in replicas:
            if not replica.alive():
                replica.start()
                replica.wait_ready()
        edits_ended = time.monotonic()
        converged = False
        while time.monotonic() - edits_ended < converge_s:
            if _settled(sandbox, store_url):
                converged = True
                break
            time.sleep(2)
        converge_s_taken = round(time.monotonic() - edits_ended, 1)
        for replica in replicas:
            replica.stop()
        deliveries = list(sandbox.app.state.webhooks.deliveries)
        result: dict[str, Any] = {
            "seed": seed, "edit_s": edit_s, "edits": editor.done,
            "kills": len(chaos["kills"]), "kill_log": chaos["kills"],
            "faults_injected": faults.fired,
            "deliveries": len(deliveries),
            "deliveries_failed_by_sandbox": sum(d.outcome == "failed" for d in deliveries),
            "events_sent": sum(d.event_count for d in deliveries),
            "proxy_answers": proxy.answers,
            "converged": converged, "time_to_converge_s": converge_s_taken,
            "soak_s": round(time.monotonic() - started, 1),
        }
        result.update(_verify(sandbox, proxy, values, store_url, tmp))
        result["load_before"] = [round(x, 2) for x in load_before]
        result["load_after"] = [round(x, 2) for x in os.getloadavg()]
        result["passed"] = bool(
            converged and result["outputs_differing"] == 0 and result["ledger_only_chaos"] == 0
            and result["ledger_only_fresh"] == 0 and result["ledger_duplicates"] == 0
            and result["decisions_only_chaos"] == 0 and result["decisions_only_fresh"] == 0
            and result["events_lost"] == 0 and result["dead_without_reason"] == 0)
        return result
    finally:
        for replica in replicas:
            replica.kill9()
        proxy_server = getattr(proxy, "_server", None)
        if proxy_server is not None:
            proxy.stop()
        sandbox.stop()
        drop_database(store_url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--edit-s", type=float, default=90.0)
    parser.add_argument("--converge-s", type=float, default=420.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", default="bench/out/chaos.json")
    parser.add_argument("--keep-logs", help="copy the replicas' logs to this folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="partner-sync-chaos-") as raw:
        tmp = Path(raw)
        result = run(args.edit_s, args.converge_s, args.seed, tmp)
        if args.keep_logs:
            keep = Path(args.keep_logs)
            keep.mkdir(parents=True, exist_ok=True)
            for log in tmp.glob("replica*.log"):
                (keep / log.name).write_bytes(log.read_bytes())
    print(json.dumps(result, indent=2, default=str))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2, default=str))
    sys.exit(0 if result["passed"] else 1)


if __name__ == "__main__":
    main()
