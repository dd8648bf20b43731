"""serve with member portals: every admin route it serves is declared in ``/openapi.json``."""

from __future__ import annotations

import re
from pathlib import Path

from starlette.routing import Route

from cli.serve import build_parts
from tests.portals.rig import portal_rig
from webhooks.app import create_app
from webhooks.openapi import OPENAPI


def test_every_admin_route_of_serve_with_member_portals_is_declared(tmp_path: Path) -> None:
    with portal_rig(tmp_path) as rig:
        app = create_app(build_parts(rig.runtime, scheduler=False, worker=False))
    routes = [r for r in app.routes if isinstance(r, Route) and r.path.startswith("/admin")]
    admin = {(re.sub(r"{(\w+):\w+}", r"{\1}", r.path), m.lower())  # {run_id:int}: {run_id}
             for r in routes for m in (r.methods or ()) if m != "HEAD"}
    assert ("/admin/portals", "get") in admin
    declared = {(p, m) for p, ops in OPENAPI["paths"].items() for m in ops}
    assert admin <= declared, sorted(admin - declared)
