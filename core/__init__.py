"""The kernel: settings, extensions, money, time, errors, access rules. Imports no blueprint."""
