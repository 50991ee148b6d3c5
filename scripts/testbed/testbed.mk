# testbed.mk - make check-xen (the real-Xen scenarios)
