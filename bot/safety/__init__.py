"""Safety nets that run beside the classifier (dependency-free: the engine imports them)."""
