"""Generated and bundled scenarios: the seeded program generator and the example programs."""

from famassign.scenarios.example import example_path
from famassign.scenarios.generator import count_eligible_pairs, generate
from famassign.scenarios.presets import (
    PRESETS,
    GeneratorConfig,
    GeneratorConfigError,
    preset_config,
    scaled,
)

__all__ = [
    "PRESETS",
    "GeneratorConfig",
    "GeneratorConfigError",
    "count_eligible_pairs",
    "example_path",
    "generate",
    "preset_config",
    "scaled",
]
