"""audiorepro: reproduce SALMONN Table 3 and SAKURA, score with the papers' metrics, compare."""

__version__ = "0.1.0"
