"""Errors that the operator is expected to see: the CLI prints them as one line, no traceback."""


class ExpectedFailure(Exception):
    """A failure of the environment or of the input, not a bug."""


class ConfigError(ExpectedFailure):
    """A setting is missing, malformed or refused."""


class DatabaseUnavailable(ExpectedFailure):
    """The database cannot be reached or refused the connection."""


class BrokerUnavailable(ExpectedFailure):
    """RabbitMQ cannot be reached or refused the connection."""


class SchemaError(ExpectedFailure):
    """The database schema is not what the command expects."""
