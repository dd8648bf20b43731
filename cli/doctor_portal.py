"""The portal half of ``partner-sync doctor``: token, scopes, contract properties, rate limits.

Every call goes through the ``Gateway`` (one attempt each: the doctor reports what it sees, it
does not wait out retries). The rate-limit headroom is read from the ``X-HubSpot-RateLimit-*``
headers of the doctor's own calls, captured by an httpx response hook.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

import httpx

from cli.doctor_checks import Check
from cli.output import ExitCode
from config.contract import PropertySpec
from config.settings import Settings
from sync.gateway import AuthError, Gateway, HubSpotError, TransientError
from sync.gateway.errors import ActionKind

__all__ = ["REQUIRED_SCOPES", "HeaderTap", "portal_checks"]

# The scopes the product needs (docs/connecting-a-portal.md lists the same; a test keeps them
# equal). schemas.*.write is used by `init` only; subscriptions are read, never written.
REQUIRED_SCOPES = (
    "crm.objects.companies.read",
    "crm.objects.companies.write",
    "crm.objects.contacts.read",
    "crm.objects.contacts.write",
    "crm.objects.deals.read",
    "crm.objects.deals.write",
    "crm.objects.subscriptions.read",
    "crm.objects.owners.read",
    "crm.schemas.companies.read",
    "crm.schemas.companies.write",
    "crm.schemas.contacts.read",
    "crm.schemas.contacts.write",
    "crm.schemas.deals.read",
    "crm.schemas.deals.write",
    "crm.schemas.subscriptions.read",
)
GROUPS = "GET /crm/v3/properties/{type}/groups"
LOW_DAILY_SHARE = 0.10  # warn when less than a tenth of the daily budget is left

FIX_TOKEN = (
    "copy the access token of the private app (HubSpot: Settings > Integrations > Private "
    "apps > your app > Auth) into PARTNER_SYNC_HUBSPOT__ACCESS_TOKEN; rotate it there if it "
    "was revoked. See docs/connecting-a-portal.md"
)
FIX_SCOPES = (
    "add the missing scopes to the private app (Settings > Integrations > Private apps > your "
    "app > Scopes), commit the change, and use the token HubSpot shows afterwards"
)
FIX_UNREACHABLE = (
    "check PARTNER_SYNC_HUBSPOT__BASE_URL (default https://api.hubapi.com), DNS, proxy and "
    "firewall; for the sandbox, start it with `partner-sync sandbox`"
)
FIX_INIT = "run `partner-sync init` (creates the property group and every contract property)"


class HeaderTap:
    """An httpx response hook keeping the last ``X-HubSpot-RateLimit-*`` headers seen."""

    def __init__(self) -> None:
        self.window: dict[str, str] = {}
        self.daily: dict[str, str] = {}

    def __call__(self, response: httpx.Response) -> None:
        seen = {k.lower(): v for k, v in response.headers.items()
                if k.lower().startswith("x-hubspot-ratelimit-")}
        if "x-hubspot-ratelimit-max" in seen:
            self.window = seen
        if "x-hubspot-ratelimit-daily" in seen:
            self.daily = seen


def _reachable(gateway: Gateway, base_url: str) -> Check | None:
    """One cheap read; a Check when it shows the portal unreachable or the token dead."""
    try:
        next(iter(gateway.list_objects("companies", [], page_size=1)), None)
    except AuthError as exc:
        if exc.action.kind is ActionKind.FAIL_SCOPE:
            return None  # the scopes check names it
        return Check("token", "fail", str(exc), FIX_TOKEN, ExitCode.AUTH)
    except TransientError as exc:
        if exc.status is None or exc.status >= 500:
            # A transport error already names the host and the URL called.
            detail = str(exc) if str(exc).startswith("cannot reach ") else \
                f"cannot reach {base_url}: {exc}"
            return Check("portal", "fail", detail, FIX_UNREACHABLE, ExitCode.UNREACHABLE)
    except HubSpotError:
        return None  # other answers mean it is there; the probes below say more
    return None


def _access_checks(gateway: Gateway) -> list[Check]:
    access = gateway.check_access()
    if not access.token_ok:
        detail = "; ".join(access.problems.values()) or "token rejected"
        return [Check("token", "fail", detail, FIX_TOKEN, ExitCode.AUTH)]
    checks = [Check("token", "ok", f"HubSpot accepts token {access.token}")]
    if access.missing_scopes:
        checks.append(Check("scopes", "fail",
                            "missing scope(s): " + ", ".join(access.missing_scopes),
                            FIX_SCOPES, ExitCode.AUTH))
    else:
        checks.append(Check("scopes", "ok", "every probed read and write is allowed"))
    for probe, problem in access.problems.items():
        checks.append(Check(f"access: {probe}", "warn", problem,
                            "see docs/troubleshooting.md for the status code"))
    return checks


def _property_problems(spec: PropertySpec, found: Mapping[str, Any] | None) -> list[str]:
    if found is None:
        return [f"{spec.object_type}.{spec.name} is missing"]
    problems = []
    if found.get("type") != spec.type:
        problems.append(
            f"{spec.object_type}.{spec.name} is {found.get('type')}, expected {spec.type}"
        )
    elif spec.options:
        have = {str(o.get("value")) for o in found.get("options") or ()}
        if missing := [o for o in spec.options if o not in have]:
            problems.append(f"{spec.object_type}.{spec.name} lacks option(s) {', '.join(missing)}")
    return problems


def _property_checks(gateway: Gateway, settings: Settings) -> list[Check]:
    contract = settings.contract()
    specs = contract.property_specs()
    missing: list[str] = []
    wrong: list[str] = []
    groupless: list[str] = []
    for object_type in sorted({s.object_type for s in specs}):
        try:
            found = {p["name"]: p for p in gateway.get_properties(object_type)}
            groups = gateway.call(GROUPS, partial(
                gateway.properties_groups.get_all, object_type, _preload_content=False))
        except AuthError:
            continue  # the scopes check reports it
        if contract.group_name not in {g.get("name") for g in groups.get("results", ())}:
            groupless.append(object_type)
        for spec in (s for s in specs if s.object_type == object_type):
            held = found.get(spec.name)
            # a missing property or option is init's to add; a wrong type is not
            init_fixes = held is None or held.get("type") == spec.type
            (missing if init_fixes else wrong).extend(_property_problems(spec, held))
    checks: list[Check] = []
    if groupless:
        checks.append(Check("property group", "fail",
                            f"group {contract.group_name} missing on {', '.join(groupless)}",
                            FIX_INIT, ExitCode.AUTH))
    if missing:
        checks.append(Check("contract properties", "fail",
                            f"{len(missing)} missing: " + "; ".join(missing), FIX_INIT,
                            ExitCode.AUTH))
    if wrong:
        checks.append(Check(
            "property types", "fail", "; ".join(wrong),
            "HubSpot cannot change a property's type: archive the wrong property in HubSpot "
            "(Settings > Properties) or choose another PARTNER_SYNC_SYNC__PROPERTY_PREFIX, then "
            "run `partner-sync init`", ExitCode.AUTH))
    if not checks:
        checks.append(Check("contract properties", "ok",
                            f"group {contract.group_name} and all {len(specs)} properties"))
    return checks


def _int(headers: Mapping[str, str], name: str) -> int | None:
    raw = (headers.get(name) or "").strip()
    # ASCII digits only: "²".isdigit() is True but int() refuses it.
    return int(raw) if raw.isascii() and raw.isdigit() else None


def rate_limit_check(tap: HeaderTap, configured_per_10s: int) -> Check:
    """Headroom from the last rate-limit headers: the window max and the daily remainder."""
    window_max = _int(tap.window, "x-hubspot-ratelimit-max")
    if window_max is None:
        return Check("rate limits", "warn", "HubSpot sent no X-HubSpot-RateLimit-* headers",
                     "nothing to do if calls succeed; pacing uses the configured budget")
    interval_s = (_int(tap.window, "x-hubspot-ratelimit-interval-milliseconds") or 10_000) / 1000
    parts = [f"window max {window_max} per {interval_s:g} s (configured {configured_per_10s})"]
    daily = _int(tap.daily, "x-hubspot-ratelimit-daily")
    daily_left = _int(tap.daily, "x-hubspot-ratelimit-daily-remaining")
    if daily is not None and daily_left is not None:
        parts.append(f"daily remaining {daily_left} of {daily}")
    else:
        parts.append("no daily headers (OAuth tokens get none)")
    detail = "; ".join(parts)
    if configured_per_10s > window_max:
        return Check("rate limits", "warn", detail,
                     f"set PARTNER_SYNC_HUBSPOT__RATE_LIMIT_PER_10S={window_max} so pacing "
                     "never earns a 429")
    if daily and daily_left is not None and daily_left < daily * LOW_DAILY_SHARE:
        return Check("rate limits", "warn", detail,
                     "less than 10% of today's budget is left: postpone full syncs to after "
                     "midnight (HubSpot's day), or find the other app spending it")
    return Check("rate limits", "ok", detail)


def portal_checks(
    settings: Settings, *, transport: httpx.BaseTransport | None = None
) -> list[Check]:
    """Token, scopes, contract properties and rate-limit headroom of the configured portal."""
    if settings.hubspot.access_token is None:
        return [Check("token", "fail", "no HubSpot access token is configured "
                      "(PARTNER_SYNC_HUBSPOT__ACCESS_TOKEN is unset)", FIX_TOKEN, ExitCode.AUTH)]
    tap = HeaderTap()
    hubspot = settings.hubspot.model_copy(update={"max_attempts": 1})
    with httpx.Client(transport=transport, timeout=httpx.Timeout(min(hubspot.timeout_s, 15.0)),
                      event_hooks={"response": [tap]}) as http:
        gateway = Gateway(hubspot, http=http)
        dead = _reachable(gateway, hubspot.base_url)
        if dead is not None:
            return [dead]
        checks = _access_checks(gateway)
        if checks[0].status == "fail":
            return checks
        checks.extend(_property_checks(gateway, settings))
    checks.append(rate_limit_check(tap, hubspot.rate_limit_per_10s))
    return checks
