"""The `lineblocs-jobs` command line."""


def main() -> None:
    # Imported here, not at the top: `lineblocs_shared.cli.options` (used by the services'
    # commands) must not build the whole CLI on import.
    from lineblocs_shared.cli.app import main as run

    run()
