"""The only package that knows HTTP (and, later, Socket.IO): it translates to service calls."""
