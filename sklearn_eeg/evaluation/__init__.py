"""Evaluation: the alarm policy and detector, alarm scoring and chance levels, forecast scores, splits."""
