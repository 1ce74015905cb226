"""A triage module that exists but cannot import (a dependency of its own is missing)."""

import anshin_dependency_that_is_not_installed  # noqa: F401
