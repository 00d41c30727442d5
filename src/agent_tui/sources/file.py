"""One local file as a source: history, then ``tail -F`` when following; ``.gz`` read transparently."""

from __future__ import annotations

from agent_tui.sources.gz import GzReader, is_gzip
from agent_tui.sources.options import SourceOptions
from agent_tui.sources.pump import PollingSource, ReaderGroup
from agent_tui.sources.tail import FileTailer, Reader

__all__ = ["FileSource", "open_reader"]


def open_reader(
    path: str, name: str, *, follow: bool, lines: int | None, read_size: int, announce: bool
) -> Reader:
    """A reader for ``path``: gzip files are decompressed (history only), others are tailed.

    Args:
        path: The file.
        name: Source name stamped on its batches.
        follow: Keep reading after the end (ignored for gzip files, which never grow).
        lines: History bound (``None`` all, ``N`` last N lines, 0 none).
        read_size: Bytes per read and per batch.
        announce: Emit READING/FOLLOWING/DONE statuses.
    """
    if is_gzip(path):
        return GzReader(path, name, lines=lines, read_size=read_size, announce=announce)
    return FileTailer(path, name, follow=follow, lines=lines, read_size=read_size, announce=announce)


class FileSource(PollingSource):
    """Lines of one file; batches carry ``path``, ``file_id`` (``dev:inode``) and per-line offsets."""

    def __init__(self, path: str, options: SourceOptions, *, name: str | None = None) -> None:
        """Open nothing yet; the file is opened (or waited for, when following) on the first poll.

        Args:
            path: The file to read.
            options: ``follow``, ``lines``, ``poll_interval``, ``watch`` and ``read_size`` apply.
            name: Display name (defaults to ``path``).
        """
        display = name if name is not None else path
        reader = open_reader(
            path,
            display,
            follow=options.follow,
            lines=options.lines,
            read_size=options.read_size,
            announce=True,
        )
        group = ReaderGroup([reader], budget=options.read_size)
        super().__init__(display, group, options.poll_interval, watch=options.watch and options.follow)
        self.path = path
