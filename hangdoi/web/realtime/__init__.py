"""Realtime: the projection of committed engine changes onto Socket.IO rooms, and the socket hub."""
