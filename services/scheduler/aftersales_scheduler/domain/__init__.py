"""Pure scheduling rules: no FastStream, no PyMongo, no I/O."""
