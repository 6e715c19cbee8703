"""Pure intake rules: normalisers, validation, the vehicle file. No I/O here."""
