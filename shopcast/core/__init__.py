"""The shared kernel: settings, storage, the realtime bus, security, errors, ids, clock."""
