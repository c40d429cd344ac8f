"""What the generator draws: :class:`GeneratorConfig` and the named programs in :data:`PRESETS`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date

from famassign.models import ProgramOption
from famassign.models.errors import FamassignError

DEFAULT_LANGUAGES: dict[str, float] = {
    "en": 0.65,
    "es": 0.28,
    "ar": 0.02,
    "vi": 0.015,
    "ht": 0.015,
    "zh": 0.01,
    "so": 0.01,
}
"""Preferred-language shares of a typical program (English, Spanish and a few others)."""

DEFAULT_OPTIONS: dict[str, float] = {
    ProgramOption.center_based.value: 0.80,
    ProgramOption.home_based.value: 0.15,
    ProgramOption.family_child_care.value: 0.04,
    ProgramOption.locally_designed.value: 0.01,
}
"""Program-option shares of enrolled families."""


SPECIALIST_LANGUAGES: dict[str, float] = {
    "en": 0.62,
    "es": 0.28,
    "ar": 0.03,
    "vi": 0.02,
    "ht": 0.02,
    "zh": 0.01,
    "so": 0.02,
}
"""A program where a tenth of the families speak a rarer language (the ``specialists`` preset)."""

PART_TIME_FTES = (0.5, 0.6, 0.7, 0.8)
"""FTEs of part-time hires, unless a config says otherwise."""
DEFAULT_AS_OF = date(2026, 8, 17)
"""The planning date of generated programs, unless a config says otherwise."""


class GeneratorConfigError(FamassignError, ValueError):
    """A generator config value out of range, or an unknown preset name."""


@dataclass(frozen=True)
class GeneratorConfig:
    """What to generate. Shares are fractions; counts from shares are rounded.

    `languages` and `program_options` are shares (normalised); ``en`` and ``es`` families are
    served by English-only and bilingual es/en staff, any other language by advocates who speak it
    and English. `slack` is the spare capacity over families per site and language
    (0.08 = 8 %). `with_current_assignments` gives `current_share` of the families a
    current_staff_id that is eligible and within caps; `pinned_share` of those are pinned.
    `conflicts_share` of families get a conflict with an otherwise eligible staff member.
    `site_size_spread` is the sigma of the lognormal site sizes; `neighbour_share` the chance
    that an advocate also serves the next site (half that for the previous one). `waiver` arranges
    one site where Spanish center-based demand exceeds 40 per bilingual advocate
    by 3 and adds a waiver (max 45) for one of them; `expired_exception` adds a temporary
    exception that ended before `as_of`; `absent_staff` adds that many extra advocates who carry
    families in the current plan but are now absent. `dense` makes every staff member serve ``*``.
    `rare_intensity` gives the (low, medium, high) intensity shares of families of the rarer
    languages (None: the same as every family's).
    """

    n_families: int = 600
    n_sites: int = 6
    languages: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_LANGUAGES))
    program_options: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_OPTIONS))
    slack: float = 0.08
    part_time_share: float = 0.15
    neighbour_share: float = 0.5
    site_size_spread: float = 0.5
    home_area_size: int = 4
    rare_area_size: int = 12
    disability_share: float = 0.12
    agency_share: float = 0.10
    staff_disability_share: float = 0.20
    dense: bool = False
    with_current_assignments: bool = False
    current_share: float = 1.0
    pinned_share: float = 0.0
    conflicts_share: float = 0.0
    waiver: bool = False
    expired_exception: bool = False
    absent_staff: int = 0
    part_time_ftes: tuple[float, ...] = PART_TIME_FTES
    rare_intensity: tuple[float, float, float] | None = None
    site_names: tuple[str, ...] = ()
    name: str = ""
    as_of: date = DEFAULT_AS_OF

    def __post_init__(self) -> None:
        if self.n_families < 1:
            raise GeneratorConfigError(f"n_families must be at least 1, got {self.n_families}")
        if self.n_sites < 1:
            raise GeneratorConfigError(f"n_sites must be at least 1, got {self.n_sites}")
        if self.site_names and len(self.site_names) != self.n_sites:
            raise GeneratorConfigError(
                f"site_names has {len(self.site_names)} names for n_sites={self.n_sites}"
            )
        for label, shares in (
            ("languages", self.languages),
            ("program_options", self.program_options),
        ):
            if not shares or any(v < 0 for v in shares.values()) or sum(shares.values()) <= 0:
                raise GeneratorConfigError(
                    f"{label} shares must be non-negative with a positive sum"
                )
        unknown = sorted(set(self.program_options) - {o.value for o in ProgramOption})
        if unknown:
            raise GeneratorConfigError(f"unknown program options {', '.join(unknown)}")
        for label, value in (
            ("slack", self.slack),
            ("part_time_share", self.part_time_share),
            ("neighbour_share", self.neighbour_share),
            ("current_share", self.current_share),
            ("pinned_share", self.pinned_share),
            ("conflicts_share", self.conflicts_share),
        ):
            if not 0 <= value <= 1:
                raise GeneratorConfigError(f"{label} must be between 0 and 1, got {value}")
        if self.site_size_spread < 0:
            raise GeneratorConfigError(
                f"site_size_spread must be non-negative, got {self.site_size_spread}"
            )
        if self.home_area_size < 1 or self.rare_area_size < 1 or self.absent_staff < 0:
            raise GeneratorConfigError(
                "area sizes must be at least 1 and absent_staff non-negative"
            )
        if self.rare_intensity is not None and (
            len(self.rare_intensity) != 3
            or any(v < 0 for v in self.rare_intensity)
            or sum(self.rare_intensity) <= 0
        ):
            raise GeneratorConfigError(
                "rare_intensity must be three non-negative shares (low, medium, high) with a"
                f" positive sum, got {self.rare_intensity}"
            )
        if not self.part_time_ftes or any(not 0.1 <= f < 1 for f in self.part_time_ftes):
            raise GeneratorConfigError(
                f"part_time_ftes must be non-empty, each in [0.1, 1), got {self.part_time_ftes}"
            )


PRESETS: dict[str, GeneratorConfig] = {
    "rural": GeneratorConfig(
        n_families=120, n_sites=3, languages={"en": 0.70, "es": 0.28, "ar": 0.02}
    ),
    "small": GeneratorConfig(n_families=600, n_sites=6),
    "medium": GeneratorConfig(n_families=2_000, n_sites=12),
    "large": GeneratorConfig(n_families=10_000, n_sites=40),
    "state": GeneratorConfig(n_families=30_000, n_sites=120),
    "dense": GeneratorConfig(n_families=10_000, n_sites=40, dense=True),
    # Program structures the size presets lack (10,000 families each; scale with `scaled`).
    "specialists": GeneratorConfig(
        n_families=10_000,
        n_sites=40,
        languages=SPECIALIST_LANGUAGES,
        rare_area_size=40,
        slack=0.16,
    ),
    "newcomers": GeneratorConfig(
        n_families=10_000,
        n_sites=40,
        languages=SPECIALIST_LANGUAGES,
        rare_area_size=40,
        slack=0.16,
        rare_intensity=(0.0, 0.0, 1.0),
    ),
    "near_cap": GeneratorConfig(n_families=10_000, n_sites=40, slack=0.16, neighbour_share=0.9),
    "part_time": GeneratorConfig(
        n_families=10_000, n_sites=40, part_time_share=0.7, part_time_ftes=(0.5,)
    ),
    "agency": GeneratorConfig(n_families=10_000, n_sites=40, agency_share=0.6),
    "crowded": GeneratorConfig(n_families=6_000, n_sites=1, languages={"en": 1.0}, dense=True),
}
"""Named programs. Sizes: ``rural`` to ``state``; ``dense`` is ``large`` with every staff member
serving every site. Structures (10,000 families): ``specialists``, advocates of rarer languages
(a larger share than usual) who also speak English and serve every site, linking the whole
program into one component, ~86% of the capacity used; ``newcomers``, ``specialists`` whose
families of a rarer language (newly arrived) are all assessed at high intensity, so the few
staff who may serve them carry the largest loads, groups joined to the rest of the program
through the English-speaking families they also serve; ``near_cap``, ~86% of the capacity used
with most advocates also serving a neighbouring site; ``part_time``, 70% of hires part-time, all
at 0.5 FTE; ``agency``, 60% of families with a plan held by another agency (a lighter load);
``crowded`` (6,000 families), one site and one language: everyone may serve everyone, about two
million eligible pairs, and any even spread is optimal."""


def scaled(preset: str | GeneratorConfig, n_families: int) -> GeneratorConfig:
    """`preset` with `n_families` families and as many sites per family as it had."""
    cfg = preset_config(preset)
    sites = max(1, round(cfg.n_sites * n_families / cfg.n_families))
    rare = cfg.rare_area_size if cfg.rare_area_size < cfg.n_sites else sites
    return replace(cfg, n_families=n_families, n_sites=sites, rare_area_size=rare)


def preset_config(preset: str | GeneratorConfig) -> GeneratorConfig:
    """The config of a preset name (or the config itself); GeneratorConfigError (a ValueError)
    naming the presets."""
    if isinstance(preset, GeneratorConfig):
        return preset
    try:
        return PRESETS[preset]
    except KeyError:
        raise GeneratorConfigError(
            f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}"
            " or pass a GeneratorConfig"
        ) from None


__all__ = [
    "DEFAULT_AS_OF",
    "DEFAULT_LANGUAGES",
    "DEFAULT_OPTIONS",
    "PART_TIME_FTES",
    "PRESETS",
    "SPECIALIST_LANGUAGES",
    "GeneratorConfig",
    "GeneratorConfigError",
    "preset_config",
    "scaled",
]
