"""Association storage (v4 semantics): typed links between records, kept in both directions.

Each link is stored as one int, ``to_id << 10 | type_id``, in a per-record list, so the
millions of contact-company links of profile L stay small. Every labelled type (Primary) is
accompanied by the pair's unlabeled type, as in HubSpot.
"""

from __future__ import annotations

from sandbox.schema import ASSOCIATION_TYPES, AssociationType

__all__ = ["AssociationStore", "association_type", "default_type_ids", "target_type"]

_SHIFT = 10
_MASK = (1 << _SHIFT) - 1

_BY_ID: dict[tuple[str, str, int], AssociationType] = {
    (t.from_type, t.to_type, t.type_id): t for t in ASSOCIATION_TYPES
}
_UNLABELED: dict[tuple[str, str], int] = {
    (t.from_type, t.to_type): t.type_id for t in ASSOCIATION_TYPES if t.label is None
}
_PRIMARY: dict[tuple[str, str], int] = {
    (t.from_type, t.to_type): t.type_id for t in ASSOCIATION_TYPES if t.label == "Primary"
}
_REVERSE: dict[tuple[str, str, int], int] = {}
for _t in ASSOCIATION_TYPES:
    for _r in ASSOCIATION_TYPES:
        if (_r.from_type, _r.to_type, _r.label) == (_t.to_type, _t.from_type, _t.label):
            _REVERSE[(_t.from_type, _t.to_type, _t.type_id)] = _r.type_id


def association_type(from_type: str, to_type: str, type_id: int) -> AssociationType | None:
    """The HubSpot-defined type ``type_id`` from ``from_type`` to ``to_type``, if there is one."""
    return _BY_ID.get((from_type, to_type, type_id))


def default_type_ids(from_type: str, to_type: str, primary: bool) -> list[int]:
    """The unlabeled type id of the pair, plus its Primary type when asked and it has one."""
    ids = [_UNLABELED[(from_type, to_type)]] if (from_type, to_type) in _UNLABELED else []
    if primary and (from_type, to_type) in _PRIMARY:
        ids.append(_PRIMARY[(from_type, to_type)])
    return ids


class AssociationStore:
    """Links between records of the four object types, readable from either side."""

    def __init__(self) -> None:
        self._links: dict[tuple[str, str], dict[int, list[int]]] = {}

    def _side(self, from_type: str, to_type: str) -> dict[int, list[int]]:
        return self._links.setdefault((from_type, to_type), {})

    def add(self, from_type: str, from_id: int, to_type: str, to_id: int,
            type_id: int) -> list[int]:
        """Link two records with ``type_id`` (and the unlabeled type); returns type ids added.

        A Primary link replaces the record's previous Primary link of that pair.
        """
        wanted = [type_id]
        unlabeled = _UNLABELED.get((from_type, to_type))
        if unlabeled is not None and unlabeled != type_id:
            wanted.insert(0, unlabeled)
        added: list[int] = []
        for tid in wanted:
            if tid == _PRIMARY.get((from_type, to_type)):
                for old_to in self.targets(from_type, from_id, to_type):
                    if tid in old_to[1] and old_to[0] != to_id:
                        self.remove(from_type, from_id, to_type, old_to[0], tid)
            if self._put(from_type, from_id, to_type, to_id, tid):
                added.append(tid)
        return added

    def _put(self, from_type: str, from_id: int, to_type: str, to_id: int, tid: int) -> bool:
        forward = self._side(from_type, to_type).setdefault(from_id, [])
        code = to_id << _SHIFT | tid
        if code in forward:
            return False
        forward.append(code)
        back_tid = _REVERSE.get((from_type, to_type, tid), tid)
        self._side(to_type, from_type).setdefault(to_id, []).append(from_id << _SHIFT | back_tid)
        return True

    def add_seed(self, from_type: str, from_id: int, to_type: str, to_id: int,
                 type_ids: list[int]) -> None:
        """Fast path for bulk loads: no Primary replacement, no duplicate check on the reverse."""
        for tid in type_ids:
            self._put(from_type, from_id, to_type, to_id, tid)

    def remove(self, from_type: str, from_id: int, to_type: str, to_id: int, tid: int) -> bool:
        forward = self._links.get((from_type, to_type), {}).get(from_id)
        code = to_id << _SHIFT | tid
        if not forward or code not in forward:
            return False
        forward.remove(code)
        back_tid = _REVERSE.get((from_type, to_type, tid), tid)
        backward = self._links.get((to_type, from_type), {}).get(to_id)
        if backward and (from_id << _SHIFT | back_tid) in backward:
            backward.remove(from_id << _SHIFT | back_tid)
        return True

    def targets(self, from_type: str, from_id: int, to_type: str) -> list[tuple[int, list[int]]]:
        """``[(to_id, [type ids])]`` in the order the links were made."""
        grouped: dict[int, list[int]] = {}
        for code in self._links.get((from_type, to_type), {}).get(from_id, ()):
            grouped.setdefault(code >> _SHIFT, []).append(code & _MASK)
        return list(grouped.items())


def target_type(from_type: str, type_id: int) -> str | None:
    """The object type a HubSpot-defined ``type_id`` from ``from_type`` points at."""
    for (source, target, tid) in _BY_ID:
        if source == from_type and tid == type_id:
            return target
    return None
