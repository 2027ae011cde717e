"""A centre's timeline shipped to its province: what is sent (timeline.py), how the province stores
it (ingest.py), and the centre's loop that sends it (pusher.py)."""
