"""The columnar store of records: the index, raw bytes found again, display order, Records built."""
