"""The web layer: the API (api/), the manager's pages (admin/), the realtime hub (realtime/), and
what every request passes through (context, security, rate limits, assets). The application
factory (hangdoi/app.py) puts these together with the kiosk, counter and display pages."""
