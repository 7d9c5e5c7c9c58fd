"""The core: shared types, errors, the clock, the typed handoff signal and the ports (Protocols). No I/O."""
