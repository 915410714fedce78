"""The tensor algebra of axes, cases and shapes (pure data, standard library only)."""
