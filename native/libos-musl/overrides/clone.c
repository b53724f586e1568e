/* libOS-musl: threads are the libOS's green threads; there is no host clone. */
int libos_clone(int (*fn)(void *), void *stack, int flags, void *arg, int *ptid, void *tls, int *ctid);

int __clone(int (*fn)(void *), void *stack, int flags, void *arg, int *ptid, void *tls, int *ctid)
{
	return libos_clone(fn, stack, flags, arg, ptid, tls, ctid);
}
