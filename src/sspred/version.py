"""The package version, in a module of its own so that modules inside sspred read it without importing the
package's top level (which names them for type checkers, and so would close an import circle)."""

__version__ = "0.1.0"
