"""Payment pages, one module per family: ``agreements`` (an agreement's schedule: pay, confirm a
delivery, refund; receipts), ``connect`` (Stripe Connect onboarding of production companies), ``staff``
(the admins' payments desk) and ``webhook`` (Stripe's endpoint); ``common`` holds the answers they share.

Views parse, authorise, call one service of ``payments.services`` (or read through ``payments.selectors``)
and render. A service's refusal becomes a message and a redirect back (or, for a client that asks for
JSON, the refusal's status and reason); Stripe unconfigured or unreachable is said on the page, never a
500. What a person may not know about (an agreement or instalment they are no party to, another company)
is a 404.
"""
