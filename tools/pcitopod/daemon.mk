# daemon.mk - the daemon (pcitopod run), its core pieces and tests
