"""The Pirsonal API's types (generated from idl/pirsonal.idl), under a stable import path."""

from pirsonal_async.generated.types import *  # noqa: F403
from pirsonal_async.generated.types import __all__ as __all__
