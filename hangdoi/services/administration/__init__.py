"""Administration: what an admin (or, for the daily parts, a manager) changes, each change checked
and written to the audit log (change.py). One module per thing: services.py (domains, series,
services, moving waiting tickets), counters.py, officers.py, devices.py (kiosks, displays),
centre.py, catalogue_file.py (CSV/XLSX import and export of the service catalogue)."""
