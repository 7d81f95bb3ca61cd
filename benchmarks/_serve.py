"""``bedrock-kit local-server`` with TCP_NODELAY on its sockets.

LocalBedrock's handler writes the response head and body in two ``send`` calls; with Nagle's
algorithm on, the second waits for the client's delayed ACK, which adds about 40 ms to every
non-streaming call on Linux and hides the client costs this suite measures. Until the server
sets ``disable_nagle_algorithm`` itself, the benchmark turns it on here.
"""

from __future__ import annotations

import sys

from bedrock_kit import cli
from bedrock_kit.testing import server

if __name__ == "__main__":
    server._Handler.disable_nagle_algorithm = True
    sys.exit(cli.main(["local-server", *sys.argv[1:]]))
