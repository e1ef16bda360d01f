"""The typed, validated, versioned terms of offers: parse, hash, diff and render them.

terms = parse_terms(data)            # TermsInvalid(errors=[{"field": "tranches.1.share_bp", ...}])
terms_hash(terms)                    # SHA-256 of the RFC 8785 canonical JSON
diff_terms(previous, terms)          # [Change(path, old, new, action), ...]
render_terms(terms, "es")            # [(label, value), ...]
"""

from offers.terms.canonical import canonical_json, terms_hash, terms_to_json
from offers.terms.diff import Change, diff_terms
from offers.terms.errors import FieldError, TermsInvalid
from offers.terms.render import render_terms
from offers.terms.types import (
    SCHEMAS,
    CompletionFundTerms,
    DistributionTerms,
    PostProductionTerms,
    SalesTerms,
    Terms,
    parse_terms,
)

__all__ = [
    "SCHEMAS",
    "Change",
    "CompletionFundTerms",
    "DistributionTerms",
    "FieldError",
    "PostProductionTerms",
    "SalesTerms",
    "Terms",
    "TermsInvalid",
    "canonical_json",
    "diff_terms",
    "parse_terms",
    "render_terms",
    "terms_hash",
    "terms_to_json",
]
