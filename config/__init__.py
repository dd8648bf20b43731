"""Settings, program terms and the CRM contract."""

from config.contract import CrmContract, PropertySpec, contract_for_prefix
from config.settings import Settings, SettingsError, load_settings
from config.terms import ProgramTerms, TermsError, load_terms

__all__ = [
    "CrmContract",
    "ProgramTerms",
    "PropertySpec",
    "Settings",
    "SettingsError",
    "TermsError",
    "contract_for_prefix",
    "load_settings",
    "load_terms",
]
