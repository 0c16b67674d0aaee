"""Lists the services a gRPC server advertises through reflection, with grpcio's own Python
reflection client (which speaks grpc.reflection.v1alpha), one per line.

Usage: python3 tests/grpcio_reflection.py HOST:PORT
Exit status 2 when the server cannot be reached or reflection fails.
"""

import sys

import grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    channel = grpc.insecure_channel(sys.argv[1])
    try:
        grpc.channel_ready_future(channel).result(timeout=10)
        database = ProtoReflectionDescriptorDatabase(channel)
        for name in database.get_services():
            print(name)
    except Exception as error:  # the caller reports whatever went wrong
        print(f"reflection failed: {error}", file=sys.stderr)
        return 2
    finally:
        channel.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
