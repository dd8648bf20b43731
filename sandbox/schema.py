"""What the sandbox knows about HubSpot's object types, default properties and association types.

Names and ids follow HubSpot's public docs (research notes §1.1, §1.5, §4, §5). Each object type
has a canonical name (``contacts``, ``companies``, ``deals``, ``subscriptions``) and an object type
id (``0-1``, ``0-2``, ``0-3``, ``0-69``); the API accepts either, and singular forms too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "ASSOCIATION_TYPES",
    "DEFAULT_GET_PROPERTIES",
    "DEFAULT_SEARCH_PROPERTIES",
    "MODIFIED_PROPERTY",
    "OBJECT_TYPES",
    "OBJECT_TYPE_IDS",
    "QUERY_FIELDS",
    "AssociationType",
    "PropertyDef",
    "default_properties",
    "resolve_object_type",
]

OBJECT_TYPES = ("contacts", "companies", "deals", "subscriptions")
OBJECT_TYPE_IDS = {"contacts": "0-1", "companies": "0-2", "deals": "0-3", "subscriptions": "0-69"}
_ALIASES = {
    **{type_id: name for name, type_id in OBJECT_TYPE_IDS.items()},
    **{name: name for name in OBJECT_TYPES},
    "contact": "contacts",
    "company": "companies",
    "deal": "deals",
    "subscription": "subscriptions",
}
# Singular names used in association labels such as ``contact_to_company``.
SINGULAR = {"contacts": "contact", "companies": "company", "deals": "deal",
            "subscriptions": "subscription"}

# The "last modified" system property differs for contacts (HubSpot history).
MODIFIED_PROPERTY = {"contacts": "lastmodifieddate", "companies": "hs_lastmodifieddate",
                     "deals": "hs_lastmodifieddate", "subscriptions": "hs_lastmodifieddate"}
CREATED_PROPERTY = {"contacts": "createdate", "companies": "createdate", "deals": "createdate",
                    "subscriptions": "hs_createdate"}

DEFAULT_GET_PROPERTIES = {
    "contacts": ("firstname", "lastname", "email"),
    "companies": ("name", "domain"),
    "deals": ("dealname", "amount", "closedate", "pipeline", "dealstage"),
    "subscriptions": (),
}
DEFAULT_SEARCH_PROPERTIES = {
    "contacts": ("createdate", "email", "firstname", "hs_object_id", "lastmodifieddate",
                 "lastname"),
    "companies": ("name", "domain", "createdate", "hs_lastmodifieddate", "hs_object_id"),
    "deals": ("dealname", "amount", "closedate", "pipeline", "dealstage", "createdate",
              "hs_lastmodifieddate", "hs_object_id"),
    "subscriptions": ("hs_createdate", "hs_lastmodifieddate", "hs_object_id"),
}
QUERY_FIELDS = {
    "contacts": ("firstname", "lastname", "email", "phone", "company"),
    "companies": ("website", "phone", "name", "domain"),
    "deals": ("dealname", "pipeline", "dealstage", "description", "dealtype"),
    "subscriptions": ("hs_name",),
}


def resolve_object_type(raw: str) -> str | None:
    """Canonical object type name for a path segment, or None when the sandbox has no such type."""
    return _ALIASES.get(raw.lower())


@dataclass(slots=True)
class PropertyDef:
    """One property definition, as ``/crm/v3/properties`` describes it."""

    name: str
    label: str
    type: str  # bool, date, datetime, enumeration, number, phone_number, string
    field_type: str
    group_name: str
    options: list[str] = field(default_factory=list)
    hubspot_defined: bool = True
    read_only: bool = False  # value set by the system only (ids, modification dates)
    has_unique_value: bool = False
    external_options: bool = False  # owner ids: no option list to validate against
    description: str = ""
    created_at_ms: int = 0


_DEAL_STAGES = ["appointmentscheduled", "qualifiedtobuy", "presentationscheduled",
                "decisionmakerboughtin", "contractsent", "closedwon", "closedlost"]
_LIFECYCLE = ["subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead",
              "opportunity", "customer", "evangelist", "other"]
_SUB_STATUS = ["active", "past_due", "canceled", "expired", "scheduled", "paused", "unpaid"]


def _p(name: str, type_: str, *, group: str = "", options: list[str] | None = None,
       read_only: bool = False, unique: bool = False, external: bool = False) -> PropertyDef:
    field_type = {"string": "text", "number": "number", "date": "date", "datetime": "date",
                  "enumeration": "select", "bool": "booleancheckbox"}[type_]
    return PropertyDef(name=name, label=name.replace("_", " ").title(), type=type_,
                       field_type=field_type, group_name=group, options=list(options or []),
                       read_only=read_only, has_unique_value=unique, external_options=external)


def _common(type_name: str) -> list[PropertyDef]:
    info = {"contacts": "contactinformation", "companies": "companyinformation",
            "deals": "dealinformation", "subscriptions": "subscription_information"}[type_name]
    created = CREATED_PROPERTY[type_name]
    props = [
        _p("hs_object_id", "number", group=info, read_only=True),
        _p(created, "datetime", group=info),
        _p(MODIFIED_PROPERTY[type_name], "datetime", group=info, read_only=True),
        _p("hubspot_owner_id", "enumeration", group=info, external=True),
    ]
    if created != "createdate":  # subscriptions answer to both names
        props.append(_p("createdate", "datetime", group=info))
    return props


def default_properties(type_name: str) -> list[PropertyDef]:
    """HubSpot-defined properties of one object type (a working subset of the real portal's)."""
    g = {"contacts": "contactinformation", "companies": "companyinformation",
         "deals": "dealinformation", "subscriptions": "subscription_information"}[type_name]
    specific: dict[str, list[PropertyDef]] = {
        "contacts": [
            _p("email", "string", group=g, unique=True), _p("firstname", "string", group=g),
            _p("lastname", "string", group=g), _p("phone", "string", group=g),
            _p("company", "string", group=g), _p("website", "string", group=g),
            _p("jobtitle", "string", group=g), _p("hs_email_domain", "string", group=g),
            _p("lifecyclestage", "enumeration", group=g, options=_LIFECYCLE),
            _p("associatedcompanyid", "number", group=g),
            _p("city", "string", group=g), _p("country", "string", group=g),
        ],
        "companies": [
            _p("name", "string", group=g), _p("domain", "string", group=g),
            _p("website", "string", group=g), _p("phone", "string", group=g),
            _p("industry", "string", group=g), _p("city", "string", group=g),
            _p("country", "string", group=g), _p("numberofemployees", "number", group=g),
            _p("annualrevenue", "number", group=g),
            _p("lifecyclestage", "enumeration", group=g, options=_LIFECYCLE),
        ],
        "deals": [
            _p("dealname", "string", group=g), _p("amount", "number", group=g),
            _p("dealstage", "enumeration", group=g, options=_DEAL_STAGES),
            _p("pipeline", "enumeration", group=g, options=["default"]),
            _p("closedate", "datetime", group=g), _p("description", "string", group=g),
            _p("dealtype", "enumeration", group=g, options=["newbusiness", "existingbusiness"]),
            _p("deal_currency_code", "string", group=g),
            _p("hs_is_closed_won", "bool", group=g, read_only=True),
        ],
        "subscriptions": [
            _p("hs_name", "string", group=g),
            _p("hs_status", "enumeration", group=g, options=_SUB_STATUS),
            _p("hs_recurring_billing_start_date", "date", group=g),
            _p("hs_recurring_billing_end_date", "date", group=g),
            _p("hs_mrr", "number", group=g), _p("hs_recurring_revenue", "number", group=g),
            _p("hs_currency_code", "string", group=g),
            _p("hs_recurring_billing_frequency", "string", group=g),
            _p("hs_last_payment_amount", "number", group=g),
            _p("hs_next_payment_amount", "number", group=g),
            _p("hs_next_payment_due_date", "date", group=g),
            _p("hs_invoice_creation", "string", group=g),
            _p("hs_total_collected_amount", "number", group=g),
        ],
    }
    return _common(type_name) + specific[type_name]


@dataclass(frozen=True, slots=True)
class AssociationType:
    from_type: str
    to_type: str
    type_id: int
    label: str | None  # None: the unlabeled type; "Primary" for the primary ones
    name: str  # the v3 snake_case name, e.g. ``contact_to_company_unlabeled``


def _pair(a: str, b: str, a_to_b: int, b_to_a: int,
          primary: tuple[int, int] | None = None) -> list[AssociationType]:
    sa, sb = SINGULAR[a], SINGULAR[b]
    unlabeled_a = f"{sa}_to_{sb}_unlabeled" if primary else f"{sa}_to_{sb}"
    unlabeled_b = f"{sb}_to_{sa}_unlabeled" if primary else f"{sb}_to_{sa}"
    types = [AssociationType(a, b, a_to_b, None, unlabeled_a),
             AssociationType(b, a, b_to_a, None, unlabeled_b)]
    if primary:
        types += [AssociationType(a, b, primary[0], "Primary", f"{sa}_to_{sb}"),
                  AssociationType(b, a, primary[1], "Primary", f"{sb}_to_{sa}")]
    return types


# HUBSPOT_DEFINED type ids (research notes §4).
ASSOCIATION_TYPES: tuple[AssociationType, ...] = tuple(
    _pair("contacts", "companies", 279, 280, primary=(1, 2))
    + _pair("deals", "companies", 341, 342, primary=(5, 6))
    + _pair("deals", "contacts", 3, 4)
    + _pair("contacts", "subscriptions", 296, 295)
    + _pair("companies", "subscriptions", 298, 297)
    + _pair("deals", "subscriptions", 300, 299)
)
