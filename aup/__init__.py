"""aup: the command-line front door (serve, token, and the emulator commands)."""
