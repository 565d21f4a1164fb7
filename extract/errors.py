"""Exceptions that carry a message an analyst can act on."""

import click


class OfstedKGError(click.ClickException):
    """An error reported to the user as one line; exit status 1."""

    prefix = ""

    def __init__(self, message: str):
        super().__init__(f"{self.prefix}{message}")


class InputError(OfstedKGError):
    """Bad input: a file that cannot be read or understood; exit status 2."""

    exit_code = 2


class DocumentError(OfstedKGError):
    """One document of a batch could not be turned into a graph.

    The batch goes on; the message names the file and the reason.
    """

    def __init__(self, path, reason: str):
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


class ValidationFailed(DocumentError):
    """A document's graph does not conform to the SHACL shapes."""

    def __init__(self, path, messages: list[str]):
        self.messages = messages
        super().__init__(path, f"graph does not conform to the shapes ({len(messages)} violations)")


class StoreError(OfstedKGError):
    """The store cannot be opened or written."""
