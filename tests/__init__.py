"""The dosewise test suite, a package: modules import by full dotted name (tests.tasks.test_train)."""
