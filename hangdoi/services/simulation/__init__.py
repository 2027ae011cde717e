"""Whole days of a centre played through the real engine with a simulated clock: citizens arrive,
officers call and serve, and every wait-time estimator is asked for its figure at each issue
(`hangdoi simulate`). `scenario` reads and checks the description, `day` plays one day,
`scores` turns predictions and truths into the accuracy figures."""
