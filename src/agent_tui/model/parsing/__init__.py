"""Log-line bytes to records and columns: formats, times, projected decoding, worker processes."""
