"""What the surfaces ask of the core, above the queue engine: sign-in and tokens (auth), counter
actions by name (actions), building a centre (catalogue), printing tickets, estimates of the wait,
reports, administration, and the simulator."""
