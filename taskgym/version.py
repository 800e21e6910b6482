"""taskgym's version, in a module of its own so that any module can name it without
importing the package's public surface (``taskgym.__version__`` is this)."""

__version__ = "0.1.0"
