"""Sources of raw log lines: files, directories, stdin, remote streams. Bytes only, never widgets."""
