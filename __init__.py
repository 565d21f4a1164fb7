"""ofsted-kg: Ofsted children's services reports as an RDF knowledge graph."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("ofsted-kg")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"
