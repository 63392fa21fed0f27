"""What the tests share: the pipeline harness, sandbox clients and oracles, receivers,
worked-example ledgers. Test files import helpers from here, never from each other."""
