"""listen: offline "Listen to this article" audio editions.

The pipeline, one module a stage: extract -> script -> synthesize -> mix -> tag -> publish.
`listen.pipeline` ties them together; the CLI and CMS integrations call the same functions.
"""

from listen.errors import ListenError

__version__ = "0.1.0"

__all__ = ["ListenError", "__version__"]
