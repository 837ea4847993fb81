"""The web app: static files (plain JavaScript modules, no build step) and their router."""
