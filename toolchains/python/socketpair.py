
# nabla (appended by the python toolchain's build-python.sh): the libOS serves no AF_UNIX
# sockets, so _socket.socketpair() fails with EAFNOSUPPORT. Fall back to what CPython does on
# platforms without socketpair(): a connected pair of TCP sockets on 127.0.0.1. asyncio's
# event loop needs one (its self-pipe); it works when the unikernel has a network ("ports"
# or "network" in nabla.json). Without one, socket() fails with ENETDOWN.
_nabla_native_socketpair = socketpair


def socketpair(family=None, type=SOCK_STREAM, proto=0):
    try:
        return _nabla_native_socketpair(family, type, proto)
    except OSError as e:
        if e.errno != errno.EAFNOSUPPORT or family not in (None, AF_UNIX):
            raise
    if type != SOCK_STREAM:
        raise ValueError("Only SOCK_STREAM socket type is supported")
    lsock = socket(AF_INET, type, proto)
    try:
        lsock.bind(("127.0.0.1", 0))
        lsock.listen()
        addr, port = lsock.getsockname()[:2]
        csock = socket(AF_INET, type, proto)
        try:
            csock.setblocking(False)
            try:
                csock.connect((addr, port))
            except (BlockingIOError, InterruptedError):
                pass
            csock.setblocking(True)
            ssock, _ = lsock.accept()
        except:
            csock.close()
            raise
    finally:
        lsock.close()
    return (ssock, csock)


socketpair.__doc__ = _nabla_native_socketpair.__doc__
