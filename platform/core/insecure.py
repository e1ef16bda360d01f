"""The marker that every secret made up by the embedded default carries (config.settings.embedded_secrets),
so that production settings refuse it and the code that uses a secret can strip it."""

DEV_MARKER = "insecure-embedded-"
