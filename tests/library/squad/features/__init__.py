"""The fixture squad's features, one module each (each declares `FEATURE`)."""
