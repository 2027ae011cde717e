"""Estimated waiting time (thời gian chờ dự kiến): the live queue read as plain data (`state`),
what this centre's timeline teaches about it (`model`), our forecast (`forecast`), the baselines it
is measured against (`baselines`), the live per-centre cache every screen reads (`live`) and the
words citizens see (`wording`)."""
