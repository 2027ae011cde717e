"""hangdoi: the kiosk and queue-ticketing system for Vietnam's public administrative service centres.

The application is made by hangdoi.app.create_app; the package itself imports nothing, so that a
module importing a neighbour (`from hangdoi import engine`) never pulls in the whole server."""
