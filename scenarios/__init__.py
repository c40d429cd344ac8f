"""Generated and bundled scenarios: the seeded program generator and the example programs."""

from famassign.scenarios.example import example_path
from famassign.scenarios.generator import PRESETS, GeneratorConfig, count_eligible_pairs, generate

__all__ = ["PRESETS", "GeneratorConfig", "count_eligible_pairs", "example_path", "generate"]
